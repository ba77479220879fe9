"""Who may read and act on a merchant's data.

Two kinds of people: a merchant's members (owner, agent) act for that merchant; support
reviewers read the merchants in their scope and decide disputes. Every selector filters
through these rules, so "not yours" and "missing" look the same (404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from evidence.models import Membership, Merchant, Reviewer

_CACHE_ATTR = "_refundguard_reviewer"


def reviewer_for(user: Any) -> Reviewer | None:
    """The user's active reviewer profile, if they are support staff (cached per user)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, _CACHE_ATTR):
        setattr(
            user,
            _CACHE_ATTR,
            Reviewer.objects.filter(user=user, is_active=True).first(),
        )
    cached: Reviewer | None = getattr(user, _CACHE_ATTR)
    return cached


def is_reviewer(user: Any) -> bool:
    """Whether the user works the review queue."""
    return reviewer_for(user) is not None


def member_filter(user: Any, field: str = "merchant") -> Q:
    """Rows whose merchant (reached through ``field``) the user is a member of."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    return Q(**{f"{field}__in": Membership.objects.filter(user=user).values("merchant_id")})


def review_filter(user: Any, field: str = "merchant") -> Q:
    """Rows whose merchant lies in the user's review scope (nothing if not a reviewer)."""
    reviewer = reviewer_for(user)
    if reviewer is None:
        return Q(pk__in=[])
    if reviewer.all_merchants:
        return Q()
    return Q(**{f"{field}__in": reviewer.merchants.values("id")})


def readable_filter(user: Any, field: str = "merchant") -> Q:
    """Rows the user may read: their own merchants' data, or their review scope."""
    if is_reviewer(user):
        scope = review_filter(user, field)
        if not scope:  # an empty Q: every merchant
            return scope
        return member_filter(user, field) | scope
    return member_filter(user, field)


def is_member(user: Any, merchant: Merchant | int) -> bool:
    """Whether the user acts for the merchant (owner or agent)."""
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    return (
        getattr(user, "is_authenticated", False)
        and Membership.objects.filter(user=user, merchant_id=merchant_id).exists()
    )


def can_review(user: Any, merchant: Merchant | int) -> bool:
    """Whether the user is a reviewer whose scope includes the merchant."""
    reviewer = reviewer_for(user)
    if reviewer is None:
        return False
    if reviewer.all_merchants:
        return True
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    return reviewer.merchants.filter(pk=merchant_id).exists()
