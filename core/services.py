"""Tenancy writes (the admin and the operators' scripts create merchants)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import Membership, Merchant


def merchant_create(*, slug: str, name: str, owner: Any | None = None) -> Merchant:
    """Create a merchant, optionally with its first owner."""
    with transaction.atomic():
        merchant = Merchant.objects.create(slug=slug, name=name)
        if owner is not None:
            Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)
    return merchant
