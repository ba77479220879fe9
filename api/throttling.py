"""Rate limit per API token (429 with ``Retry-After``)."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """``API_RATE`` requests per token (settings), counted in the shared cache."""

    scope = "token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None
