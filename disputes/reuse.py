"""Earlier submissions of the same claim picture, in any merchant's disputes."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from disputes.models import ClaimImage
from forensics.signals import ReuseFacts

# pHash distance at or under which two claim photos count as the same picture.
REUSE_MAX_DISTANCE = 6


def reuse_facts(*, claim_image: ClaimImage, phash: bytes) -> ReuseFacts:
    """Other disputes holding the same bytes or a near copy (pHash) of this claim photo.

    Other merchants' disputes are counted only; nothing of theirs is returned.
    """
    others = ClaimImage.objects.exclude(dispute_id=claim_image.dispute_id).filter(
        phash__isnull=False
    )
    rows = list(
        others.values_list(
            "dispute_id",
            "dispute__merchant_id",
            "dispute__external_id",
            "dispute__opened_at",
            "phash",
            "sha256",
        )
    )
    if not rows:
        return ReuseFacts()
    hashes = np.frombuffer(b"".join(bytes(r[4] or b"\0" * 8) for r in rows), dtype=">u8")
    mine = np.frombuffer(phash, dtype=">u8")[0]
    distances = np.bitwise_count(np.bitwise_xor(hashes, mine))
    same: dict[int, tuple[int, str, datetime]] = {}
    other: set[int] = set()
    for row, distance in zip(rows, distances, strict=True):
        if distance > REUSE_MAX_DISTANCE and row[5] != claim_image.sha256:
            continue
        if row[1] == claim_image.merchant_id:
            same[row[0]] = (row[0], row[2], row[3])
        else:
            other.add(row[0])
    return ReuseFacts(sorted(same.values(), key=lambda r: r[2]), len(other))
