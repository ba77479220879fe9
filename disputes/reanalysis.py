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
2. the new evidence is a packing video of the claim's own order (the dispute's
   ``order_ref``): the video most likely to matter to that claim, whatever the matcher
   says of its frames.

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
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage

from disputes.evidence_index import merchant_index
from disputes.models import ClaimImage
from evidence.models import PackingVideo, ReferencePhoto
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
    #: The order a packing video was filmed for ("" for a photo).
    order_ref: str = ""
    #: What the audit event names (``photo:12``, ``video:3``).
    label: str = ""


def new_evidence(
    *, reference_photo_id: int | None = None, packing_video_id: int | None = None
) -> NewEvidence | None:
    """The new evidence a signal named, or None when it is gone or not ready."""
    if reference_photo_id is not None:
        photo = ReferencePhoto.objects.filter(
            pk=reference_photo_id, status=ReferencePhoto.Status.FINGERPRINTED
        ).first()
        if photo is None:
            return None
        return NewEvidence(
            photo.merchant_id, (f"photo:{photo.pk}",), label=f"photo:{reference_photo_id}"
        )
    if packing_video_id is not None:
        video = PackingVideo.objects.filter(
            pk=packing_video_id, status=PackingVideo.Status.READY
        ).first()
        if video is None:
            return None
        keyframes = video.keyframes.order_by("id").values_list("pk", flat=True)
        return NewEvidence(
            video.merchant_id,
            tuple(f"keyframe:{pk}" for pk in keyframes),
            order_ref=video.order_ref,
            label=f"video:{packing_video_id}",
        )
    return None


def claims_it_could_change(evidence: NewEvidence, claim_image_ids: Sequence[int]) -> list[int]:
    """Those of ``claim_image_ids`` the new evidence could change (see the module's rule)."""
    if not claim_image_ids:
        return []
    found = merchant_index(evidence.merchant_id)
    present = {o.key for o in found.index.originals}
    originals = OriginalIndex(found.index.original(k) for k in evidence.keys if k in present)
    rows = ClaimImage.objects.filter(
        pk__in=claim_image_ids, merchant_id=evidence.merchant_id
    ).values_list("pk", "file", "dispute__order_ref")
    return [
        pk
        for pk, name, order_ref in rows.order_by("pk")
        if (evidence.order_ref and order_ref == evidence.order_ref)
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
