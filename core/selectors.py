"""Tenancy reads: the merchants a user acts for."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.models import Merchant


def merchants_for_user(*, user: Any) -> QuerySet[Merchant]:
    """Merchants the user acts for."""
    if not user.is_authenticated:
        return Merchant.objects.none()
    return Merchant.objects.filter(memberships__user=user).distinct()


def merchant_for_user(*, user: Any, merchant_id: int | None) -> Merchant | None:
    """The merchant the user chose (if theirs), else their first one, else ``None``."""
    merchants = merchants_for_user(user=user)
    if merchant_id is not None:
        chosen = merchants.filter(pk=merchant_id).first()
        if chosen is not None:
            return chosen
    return merchants.order_by("name", "pk").first()
