"""Reads about evidence packs, scoped to the user (a pack is readable by whoever may
read its dispute)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.access import for_merchant, member_filter, readable_filter, scoped_get
from core.models import Merchant
from packs.models import EvidencePack


def access_pack_by_id(
    actor: Any, pack_id: int | None, *, merchant: Merchant | None = None
) -> EvidencePack:
    """One pack the actor may read (of ``merchant``'s disputes only, when given), or 404."""
    return scoped_get(
        for_merchant(
            EvidencePack.objects.filter(readable_filter(actor, "dispute__merchant")),
            merchant,
            "dispute__merchant",
        ).select_related("dispute", "requested_by"),
        pack_id,
    )


def pack_list(*, user: Any, merchant: Merchant) -> QuerySet[EvidencePack]:
    """The packs of the merchant's disputes, newest first, for one of its people."""
    return (
        EvidencePack.objects.filter(member_filter(user, "dispute__merchant"))
        .filter(dispute__merchant=merchant)
        .select_related("dispute")
        .order_by("-created_at", "-id")
    )


def dispute_packs(*, user: Any, dispute_id: int, limit: int = 5) -> QuerySet[EvidencePack]:
    """The dispute's latest packs, newest first."""
    return (
        EvidencePack.objects.filter(
            readable_filter(user, "dispute__merchant"), dispute_id=dispute_id
        )
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:limit]
    )
