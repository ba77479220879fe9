"""Earlier submissions of the same claim picture, in any merchant's disputes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import F, Func, IntegerField, Q, Value

from disputes.models import ClaimImage, Dispute
from forensics.phash_bands import band_probes, phash_bands
from forensics.signals import ReuseFacts

# pHash distance at or under which two claim photos count as the same picture.
REUSE_MAX_DISTANCE = 6


class PHashDistance(Func):
    """Bits that differ between a stored 8-byte pHash column and ``value``: PostgreSQL's
    ``bit_count`` of the XOR (other databases have none; their candidates are checked
    in Python)."""

    output_field = IntegerField()

    def __init__(self, column: str, value: bytes) -> None:
        super().__init__(F(column), Value(value.hex()))

    def as_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError("PHashDistance needs PostgreSQL's bit_count")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, column_params = compiler.compile(self.source_expressions[0])
        value, value_params = compiler.compile(self.source_expressions[1])
        sql = f"bit_count(('x' || encode({column}, 'hex'))::bit(64) # ('x' || {value})::bit(64))"
        return sql, [*column_params, *value_params]


def reused_dispute_ids(*, claim_image: ClaimImage, phash: bytes) -> set[int]:
    """The other disputes (any merchant's) holding an analysed claim photo with the same
    bytes as ``claim_image`` or a pHash within ``REUSE_MAX_DISTANCE`` of ``phash``.

    Indexed: the band columns are probed for exact values (``forensics.phash_bands``:
    every hash within the distance shares a probed value in some band) and the exact
    distance is checked on those few candidates only (by PostgreSQL, else here), never
    on every row.
    """
    near = Q(sha256=claim_image.sha256)
    for probe in band_probes(phash, REUSE_MAX_DISTANCE):
        if probe.values:
            near |= Q(**{f"{ClaimImage.PHASH_BAND_FIELDS[probe.band]}__in": probe.values})
    candidates = (
        ClaimImage.objects.filter(near, phash__isnull=False)
        .order_by()  # a set of disputes: no sort
        .exclude(dispute_id=claim_image.dispute_id)
    )
    if connection.vendor == "postgresql":
        # The exact check in the database: only the matches come back, not every candidate.
        matches = candidates.alias(distance=PHashDistance("phash", phash)).filter(
            Q(distance__lte=REUSE_MAX_DISTANCE) | Q(sha256=claim_image.sha256)
        )
        return set(matches.values_list("dispute_id", flat=True))
    # Other databases: the candidates' distance from their bands, here.
    mine = phash_bands(phash)
    found: set[int] = set()
    rows = candidates.values_list("dispute_id", "sha256", *ClaimImage.PHASH_BAND_FIELDS)
    for dispute_id, sha256, *bands in rows:
        distance = sum((band ^ m).bit_count() for band, m in zip(bands, mine, strict=True))
        if distance <= REUSE_MAX_DISTANCE or sha256 == claim_image.sha256:
            found.add(dispute_id)
    return found


def reuse_facts(*, claim_image: ClaimImage, phash: bytes) -> ReuseFacts:
    """Other disputes holding the same bytes or a near copy (pHash) of this claim photo.

    Other merchants' disputes are counted only; nothing of theirs is returned.
    """
    dispute_ids = reused_dispute_ids(claim_image=claim_image, phash=phash)
    if not dispute_ids:
        return ReuseFacts()
    same: list[tuple[int, str, datetime]] = []
    other = 0
    rows = Dispute.objects.filter(pk__in=dispute_ids).values_list(
        "id", "merchant_id", "external_id", "opened_at"
    )
    for dispute_id, merchant_id, external_id, opened_at in rows:
        if merchant_id == claim_image.merchant_id:
            same.append((dispute_id, external_id, opened_at))
        else:
            other += 1
    return ReuseFacts(sorted(same, key=lambda r: r[2]), other)
