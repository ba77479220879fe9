"""Which open claims a piece of new evidence could change.

A reference photo fingerprinted or a packing video processed may be the original an
unmatched claim photo was made from. Re-analysing every unmatched claim of the merchant
after each upload re-ran the whole analysis (and wrote an audit event) for photos the new
evidence has nothing to do with. The rule here:

an unmatched claim is re-analysed when

1. the engine's own matcher (``forensics.matching.claim_match``: pHash over the 8
   rotations/flips, ORB votes, geometric verification, the same-photograph test), run
   against an index of **only the new originals**, finds a match (an edited copy or a
   near copy) — only then can adding them change the claim's result; or
2. the new evidence holds a packing video of the claim's own order (the dispute's
   ``order_ref``): the video most likely to matter to that claim, whatever the matcher
   says of its frames.

New evidence is gathered per merchant (``disputes.reanalysis_schedule``): everything made
ready since the last pass is matched as one, so a claim is re-analysed once per burst of
uploads, not once per file.

Why not a pHash distance alone: on the test photos an edited copy (a crop and paint)
lies 18 bits from its original, a 50 % crop 22, while unrelated photos come 16-20 bits
close over the 8 rotations/flips; no threshold separates them. ORB vote counts alone do
not either (unrelated pairs reach 120 votes, a crop 140). Geometric verification does, and
against one original (or one video's keyframes) it costs the claim's decode and ORB
features, about 30-70 ms, with no provenance read and nothing written: a claim it rules out
keeps its result, its dispute's status and version, and its audit trail untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage

from disputes.evidence_index import merchant_index
from disputes.models import ClaimImage
from evidence.models import PackingVideo, ReferencePhoto, VideoKeyframe
from forensics.errors import MediaRejected
from forensics.original_index import OriginalIndex
from forensics.pipeline import claim_could_match

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewEvidence:
    """New originals of one merchant, as their keys in the merchant's index."""

    merchant_id: int
    #: ``photo:<id>`` for a reference photo, ``keyframe:<id>`` for each of a video's stills.
    keys: tuple[str, ...]
    #: The orders the new packing videos were filmed for (none for photos).
    order_refs: frozenset[str] = frozenset()
    #: What the audit event names (``photo:12, video:3``).
    label: str = ""


def new_evidence(
    merchant_id: int,
    *,
    reference_photo_ids: Collection[int] = (),
    packing_video_ids: Collection[int] = (),
) -> NewEvidence | None:
    """The merchant's photos and videos of these ids that are ready, as one piece of new
    evidence (those gone, failed or being processed again since are left out); None when
    none is."""
    photos = list(
        ReferencePhoto.objects.filter(
            pk__in=list(reference_photo_ids),
            merchant_id=merchant_id,
            status=ReferencePhoto.Status.FINGERPRINTED,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    videos = list(
        PackingVideo.objects.filter(
            pk__in=list(packing_video_ids),
            merchant_id=merchant_id,
            status=PackingVideo.Status.READY,
        )
        .order_by("pk")
        .values_list("pk", "order_ref")
    )
    if not photos and not videos:
        return None
    keyframes = VideoKeyframe.objects.filter(video_id__in=[pk for pk, _ in videos])
    return NewEvidence(
        merchant_id,
        (
            *(f"photo:{pk}" for pk in photos),
            *(f"keyframe:{pk}" for pk in keyframes.order_by("id").values_list("pk", flat=True)),
        ),
        order_refs=frozenset(order_ref for _, order_ref in videos),
        label=", ".join([*(f"photo:{pk}" for pk in photos), *(f"video:{pk}" for pk, _ in videos)]),
    )


def claims_it_could_change(evidence: NewEvidence, claim_image_ids: Sequence[int]) -> list[int]:
    """Those of ``claim_image_ids`` the new evidence could change (see the module's rule)."""
    if not claim_image_ids:
        return []
    found = merchant_index(evidence.merchant_id)
    originals = OriginalIndex(found.index.original(k) for k in evidence.keys if k in found.index)
    rows = ClaimImage.objects.filter(
        pk__in=claim_image_ids, merchant_id=evidence.merchant_id
    ).values_list("pk", "file", "dispute__order_ref")
    return [
        pk
        for pk, name, order_ref in rows.order_by("pk")
        if (order_ref and order_ref in evidence.order_refs)
        or (len(originals) and _could_match(name, originals))
    ]


def _could_match(name: str, originals: OriginalIndex) -> bool:
    """Whether the matcher finds the stored claim photo ``name`` among ``originals``."""
    with default_storage.open(name, "rb") as fh:
        data = fh.read()
    try:
        return claim_could_match(data, originals, max_pixels=settings.PHOTO_MAX_PIXELS)
    except MediaRejected:
        logger.warning("claim photo %s no longer decodes; not re-analysed", name)
        return False
