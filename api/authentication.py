"""``Authorization: Bearer rg_…`` — a merchant's API token."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api.models import ApiToken
from api.services import TOKEN_PREFIX, token_hash
from api.throttling import RefusedTokenThrottle
from core.access import is_member

#: ``last_used_at`` is written at most this often per token (no write per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates as the token's creator, acting for the token's merchant only."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        limiter = RefusedTokenThrottle()
        wait = limiter.wait_if_blocked(request)
        if wait is not None:
            raise exceptions.Throttled(wait, detail="Too many refused API tokens from here.")
        try:
            token = self._token(secret.strip())
        except exceptions.AuthenticationFailed:
            limiter.refusal_record(request)
            raise
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.created_by, token

    @staticmethod
    def _token(secret: str) -> ApiToken:
        parts = secret.split("_")
        if not secret.startswith(TOKEN_PREFIX) or len(parts) < 3:
            raise exceptions.AuthenticationFailed("Malformed API token.")
        token = (
            ApiToken.objects.select_related("merchant", "created_by")
            .filter(prefix=parts[1], revoked_at__isnull=True)
            .first()
        )
        if token is None or not hmac.compare_digest(token.key_hash, token_hash(secret)):
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        # A token stops working when its creator no longer acts for the merchant.
        if not is_member(token.created_by, token.merchant):
            raise exceptions.AuthenticationFailed("The token's owner left this merchant.")
        return token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
