"""Reads about evidence packs, scoped to the user (a pack is readable by whoever may
read its dispute)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from evidence.access import readable_filter
from packs.models import EvidencePack


def pack_get(*, user: Any, pack_id: int) -> EvidencePack:
    """One pack the user may read, or 404."""
    pack = (
        EvidencePack.objects.filter(readable_filter(user, "dispute__merchant"), pk=pack_id)
        .select_related("dispute", "requested_by")
        .first()
    )
    if pack is None:
        raise Http404("No such evidence pack.")
    return pack


def dispute_packs(*, user: Any, dispute_id: int, limit: int = 5) -> QuerySet[EvidencePack]:
    """The dispute's latest packs, newest first."""
    return (
        EvidencePack.objects.filter(
            readable_filter(user, "dispute__merchant"), dispute_id=dispute_id
        )
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:limit]
    )
