"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from evidence.access import is_reviewer
from evidence.models import Membership
from evidence.selectors import merchant_for_user, merchants_for_user

SESSION_MERCHANT_KEY = "merchant_id"


def active_merchant(request: HttpRequest) -> dict[str, Any]:
    """The merchant the signed-in user is working for, the others they could pick, and
    whether they are support staff (who see the review queue)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    merchant = merchant_for_user(user=user, merchant_id=request.session.get(SESSION_MERCHANT_KEY))
    return {
        "active_merchant": merchant,
        "is_owner": merchant is not None
        and Membership.objects.filter(
            user=user, merchant=merchant, role=Membership.Role.OWNER
        ).exists(),
        "my_merchants": merchants_for_user(user=user),
        "is_reviewer": is_reviewer(user),
    }
