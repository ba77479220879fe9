"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.access import is_owner, is_reviewer
from core.http import SESSION_MERCHANT_KEY
from core.selectors import merchant_for_user, merchants_for_user


def active_merchant(request: HttpRequest) -> dict[str, Any]:
    """The merchant the signed-in user is working for, the others they could pick, and
    whether they are support staff (who see the review queue)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    merchant = merchant_for_user(user=user, merchant_id=request.session.get(SESSION_MERCHANT_KEY))
    return {
        "active_merchant": merchant,
        "is_owner": merchant is not None and is_owner(user, merchant),
        "my_merchants": merchants_for_user(user=user),
        "is_reviewer": is_reviewer(user),
    }
