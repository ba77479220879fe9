"""Reads of the integration API and its settings pages: tokens and webhooks (the
merchant's owners), resumable uploads (the token's merchant)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from api.models import ApiToken, ChunkedUpload, WebhookDelivery, WebhookEndpoint
from core.access import member_filter, scoped_get
from core.models import Membership, Merchant


def _owned(user: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, role=Membership.Role.OWNER)


def token_list(*, user: Any, merchant: Merchant) -> QuerySet[ApiToken]:
    """The merchant's tokens, newest first."""
    return ApiToken.objects.filter(
        merchant=merchant, merchant__in=_owned(user).values("merchant_id")
    ).select_related("created_by")


def access_token_by_id(actor: Any, token_id: int | None, *, merchant: Merchant) -> ApiToken:
    """One of the merchant's tokens, if the actor owns the merchant, or 404."""
    return scoped_get(token_list(user=actor, merchant=merchant), token_id)


def webhook_list(*, user: Any, merchant: Merchant) -> QuerySet[WebhookEndpoint]:
    """The merchant's webhook endpoints."""
    return WebhookEndpoint.objects.filter(
        merchant=merchant, merchant__in=_owned(user).values("merchant_id")
    )


def access_webhook_by_id(
    actor: Any, endpoint_id: int | None, *, merchant: Merchant
) -> WebhookEndpoint:
    """One of the merchant's webhook endpoints, if the actor owns the merchant, or 404."""
    return scoped_get(webhook_list(user=actor, merchant=merchant), endpoint_id)


def delivery_log(*, user: Any, merchant: Merchant) -> QuerySet[WebhookDelivery]:
    """Recent deliveries to the merchant's endpoints, newest first."""
    return WebhookDelivery.objects.filter(
        endpoint__merchant=merchant, endpoint__merchant__in=_owned(user).values("merchant_id")
    ).select_related("endpoint")


def open_uploads(*, user: Any, merchant: Merchant) -> QuerySet[ChunkedUpload]:
    """The merchant's resumable uploads not yet used, for one of its people."""
    return ChunkedUpload.objects.filter(
        member_filter(user), merchant=merchant, consumed_at__isnull=True
    )
