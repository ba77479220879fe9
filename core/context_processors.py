"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.access import is_owner, reviewer_for
from core.http import session_merchant
from core.selectors import merchants_for_user


def active_merchant(request: HttpRequest) -> dict[str, Any]:
    """The merchant the signed-in user is working for, the others they could pick, and
    whether they are support staff (who see the review queue) and in which zone of their
    own they read deadlines."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    merchant = session_merchant(request)
    reviewer = reviewer_for(user)
    return {
        "active_merchant": merchant,
        "is_owner": merchant is not None and is_owner(user, merchant),
        "my_merchants": merchants_for_user(user=user),
        "is_reviewer": reviewer is not None,
        "reviewer_time_zone": reviewer.time_zone if reviewer is not None else "",
    }
