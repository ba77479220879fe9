"""Rate limit per API token (429 with ``Retry-After``)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken
from core.request_context import client_ip


class TokenRateThrottle(SimpleRateThrottle):
    """``API_RATE`` requests per token (settings), counted in the shared cache."""

    scope = "token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None


class RefusedTokenThrottle(SimpleRateThrottle):
    """Refused tokens per client address (``REFUNDGUARD_API_REFUSED_TOKEN_RATE``): past
    the rate the address is answered 429 before any token is looked up, so secrets
    cannot be guessed at speed. Only refusals count; a valid token is never slowed."""

    scope = "refused_token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        address = client_ip.get() or request.META.get("REMOTE_ADDR") or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": address}

    def _recent(self, request: Request) -> None:
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()

    def wait_if_blocked(self, request: Request) -> float | None:
        """Seconds the address must wait, or ``None`` when it may try a token."""
        self._recent(request)
        if self.num_requests is not None and len(self.history) >= self.num_requests:
            return self.wait()
        return None

    def refusal_record(self, request: Request) -> None:
        """Count one refused token for the request's address."""
        self._recent(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
