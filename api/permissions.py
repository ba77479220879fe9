"""Only API tokens open the API (no session, so no CSRF surface)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from api.models import ApiToken


class HasApiToken(BasePermission):
    """The request was authenticated with a live API token."""

    message = "Send an API token: Authorization: Bearer rg_…"

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.auth, ApiToken)
