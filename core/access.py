"""Who may read and act on a merchant's data, and the one scoped way to fetch a row.

Two kinds of people: a merchant's members (owner, agent) act for that merchant; support
reviewers read the merchants in their scope and decide disputes. Every selector filters
through these rules, and every ``access_<thing>_by_id`` ends in ``scoped_get``, so "not
yours" and "missing" look the same (404).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from core.models import Membership, Merchant, Reviewer

_CACHE_ATTR = "_refundguard_reviewer"

ModelT = TypeVar("ModelT", bound=Model)


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


def _merchant_id(merchant: Merchant | int) -> int:
    return merchant if isinstance(merchant, int) else merchant.pk


def is_member(user: Any, merchant: Merchant | int) -> bool:
    """Whether the user acts for the merchant (owner or agent)."""
    return (
        getattr(user, "is_authenticated", False)
        and Membership.objects.filter(user=user, merchant_id=_merchant_id(merchant)).exists()
    )


def is_owner(user: Any, merchant: Merchant | int) -> bool:
    """Whether the user owns the merchant (owners manage integrations)."""
    return (
        getattr(user, "is_authenticated", False)
        and Membership.objects.filter(
            user=user, merchant_id=_merchant_id(merchant), role=Membership.Role.OWNER
        ).exists()
    )


def can_review(user: Any, merchant: Merchant | int) -> bool:
    """Whether the user is a reviewer whose scope includes the merchant."""
    reviewer = reviewer_for(user)
    if reviewer is None:
        return False
    if reviewer.all_merchants:
        return True
    return reviewer.merchants.filter(pk=_merchant_id(merchant)).exists()


def acts_for(actor: Any | None, merchant: Merchant | int) -> bool:
    """Whether ``actor`` may write the merchant's evidence and disputes: one of its
    members, or the system itself (``None``: a management command or a worker; a web
    request always passes its user)."""
    return actor is None or is_member(actor, merchant)


def for_merchant(
    rows: QuerySet[ModelT], merchant: Merchant | None, field: str = "merchant"
) -> QuerySet[ModelT]:
    """``rows`` of one merchant only, when one is given (the API acts for its token's
    merchant, though the token's user may act for others too)."""
    return rows if merchant is None else rows.filter(**{field: merchant})


def scoped_get(rows: QuerySet[ModelT], object_id: int | None) -> ModelT:
    """The row with this id among ``rows`` (already scoped to the actor), or ``Http404``:
    the same answer for a row that does not exist and one that is not the actor's."""
    found = rows.filter(pk=object_id).first() if object_id is not None else None
    if found is None:
        raise Http404("Not found.")
    return found
