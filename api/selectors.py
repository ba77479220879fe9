"""Reads of the integrations pages, scoped to merchants the user owns."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from evidence.models import Membership, Merchant


def is_owner(*, user: Any, merchant: Merchant) -> bool:
    """Whether the user owns the merchant (owners manage integrations)."""
    return Membership.objects.filter(
        user=user, merchant=merchant, role=Membership.Role.OWNER
    ).exists()


def _owned(user: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, role=Membership.Role.OWNER)


def token_list(*, user: Any, merchant: Merchant) -> QuerySet[ApiToken]:
    """The merchant's tokens, newest first."""
    return ApiToken.objects.filter(
        merchant=merchant, merchant__in=_owned(user).values("merchant_id")
    ).select_related("created_by")


def webhook_list(*, user: Any, merchant: Merchant) -> QuerySet[WebhookEndpoint]:
    """The merchant's webhook endpoints."""
    return WebhookEndpoint.objects.filter(
        merchant=merchant, merchant__in=_owned(user).values("merchant_id")
    )


def delivery_log(*, user: Any, merchant: Merchant) -> QuerySet[WebhookDelivery]:
    """Recent deliveries to the merchant's endpoints, newest first."""
    return WebhookDelivery.objects.filter(
        endpoint__merchant=merchant, endpoint__merchant__in=_owned(user).values("merchant_id")
    ).select_related("endpoint")
