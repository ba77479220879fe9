"""The one analysis of a claim photo: decode, match against the index of originals, read
provenance, add what the platform knows, and decide.

Every caller runs this function and nothing else: the Celery worker (through
``disputes.services.claim_image_analyze``), ``manage.py screen_claim``,
``benchmarks/detection.py`` and the evidence pack (which shows what the worker stored).
Pure: no Django.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PIL import Image

from forensics.alignment import original_in_claim_frame
from forensics.fingerprints import load_analysis_image, perceptual_hashes, photo_size
from forensics.matching import ClaimMatch, claim_match
from forensics.original_index import IndexedOriginal, OriginalIndex
from forensics.provenance import read_provenance
from forensics.scoring import Signal, Verdict, match_signal, verdict
from forensics.signals import provenance_signals
from forensics.subpictures import better_match, match_subpictures

#: Pixel cap of a claim photo when the caller gives none (the upload cap's default).
DEFAULT_MAX_PIXELS = 60_000_000


def _no_platform_signals(phash: bytes) -> Sequence[Signal]:
    return ()


@dataclass(frozen=True)
class ClaimContext:
    """What the caller knows beyond the image.

    ``platform_signals`` is given the claim's pHash and returns the signals that come
    from the platform's records (the same picture in other disputes, the buyer's
    history); files alone have none. ``c2pa_trust_anchors`` is a PEM bundle of C2PA trust
    anchors (``REFUNDGUARD_C2PA_TRUST_ANCHORS``); without one no signer is on a trust list.
    """

    max_pixels: int = DEFAULT_MAX_PIXELS
    platform_signals: Callable[[bytes], Sequence[Signal]] = _no_platform_signals
    c2pa_trust_anchors: str | None = None


@dataclass(frozen=True)
class Analysis:
    """Everything the analysis of one claim photo found."""

    #: The claim decoded for analysis (oriented, RGB, long side at most ANALYSIS_SIDE).
    claim: Image.Image
    #: The claim's full size after EXIF orientation.
    claim_size: tuple[int, int]
    #: 64-bit pHash of the claim (what reuse across disputes is looked up by).
    phash: bytes
    match: ClaimMatch | None
    #: The matched original's index entry (its key, label and kind), if any.
    original: IndexedOriginal | None
    signals: list[Signal]
    verdict: Verdict
    transforms: list[str] = field(default_factory=list)

    @property
    def is_derived(self) -> bool:
        """The claim is an edited copy of ``original``."""
        return self.match is not None and self.match.is_derived

    @property
    def region(self) -> tuple[int, int, int, int] | None:
        """The changed region (x, y, w, h) in the claim's full-size oriented pixels, for a
        derived claim only."""
        return self.match.region if self.match is not None and self.is_derived else None

    @property
    def heatmap(self) -> Image.Image | None:
        """The difference heatmap over the claim, for a derived claim only."""
        return self.match.heatmap if self.match is not None and self.is_derived else None

    @functools.cached_property
    def aligned_original(self) -> Image.Image | None:
        """The matched original warped into the claim's frame, for side-by-side review of
        an edited copy or a near copy; decoded on first use only."""
        match, original = self.match, self.original
        if (
            match is None
            or original is None
            or not (match.is_derived or match.is_near_copy)
            or match.homography is None
            or match.analysis_size is None
        ):
            return None
        return original_in_claim_frame(original.load_image(), match.homography, match.analysis_size)


def analyse_claim(
    data: bytes, index: OriginalIndex, *, context: ClaimContext | None = None
) -> Analysis:
    """Analyse one claim photo's bytes against an index of originals.

    Raises ``forensics.errors.MediaRejected`` for a file that is not a readable photo.
    """
    context = context or ClaimContext()
    claim_size = photo_size(io.BytesIO(data), max_pixels=context.max_pixels)
    claim = load_analysis_image(io.BytesIO(data), max_pixels=context.max_pixels)
    phash = next(f for f in perceptual_hashes(claim) if f.algorithm == "phash").value
    match = _claim_match(data, claim, claim_size, index, max_pixels=context.max_pixels)
    original = index.original(match.original_key) if match is not None else None
    signals = [
        match_signal(
            match,
            original_label=(original.label or original.key) if original is not None else "",
            original_is_frame=original is not None and original.kind == "keyframe",
        ),
        *provenance_signals(read_provenance(data, trust_anchors=context.c2pa_trust_anchors)),
        *context.platform_signals(phash),
    ]
    return Analysis(
        claim=claim,
        claim_size=claim_size,
        phash=phash,
        match=match,
        original=original,
        signals=signals,
        verdict=verdict(signals),
        transforms=list(match.transforms) if match is not None else [],
    )


def claim_could_match(
    data: bytes, index: OriginalIndex, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> bool:
    """Whether the claim photo's bytes match anything in ``index`` (an edited copy or a
    near copy): the same decode and lookup ``analyse_claim`` runs, without provenance,
    signals or a verdict. New evidence re-analyses only the claims this says it could
    change. Raises ``forensics.errors.MediaRejected`` for an unreadable photo."""
    claim_size = photo_size(io.BytesIO(data), max_pixels=max_pixels)
    claim = load_analysis_image(io.BytesIO(data), max_pixels=max_pixels)
    return _claim_match(data, claim, claim_size, index, max_pixels=max_pixels) is not None


def _claim_match(
    data: bytes,
    claim: Image.Image,
    claim_size: tuple[int, int],
    index: OriginalIndex,
    *,
    max_pixels: int,
) -> ClaimMatch | None:
    """The whole claim's match; when it is no edited copy, one its structure alone
    recognised, or one whose texture decided on a fit of a handful of feature matches
    (``ClaimMatch.is_firm``: a look-alike listing of the same series may be placed so),
    the pictures inside the claim (a screenshot's photo, a collage's tiles, a
    bordered or photographed picture) are matched at their own scale too, cut from a larger
    decode of ``data``; one that is an edited copy or a near copy and beats the whole
    claim's match replaces it (``forensics.subpictures.better_match``): a picture whose
    fine texture decides says more exactly what was changed, and where."""
    match = claim_match(claim, claim_size=claim_size, index=index)
    if not len(index) or (match is not None and match.decided_by_texture and match.is_firm):
        return match
    inside = match_subpictures(
        claim,
        claim_size,
        decode=lambda side: load_analysis_image(io.BytesIO(data), max_pixels=max_pixels, side=side),
        match=lambda picture, size: claim_match(picture, claim_size=size, index=index),
        original_size=lambda key: index.original(key).load_image().size,
    )
    return better_match(match, inside)
