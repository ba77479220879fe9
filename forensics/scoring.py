"""Turn what the analysis found into a score, a risk level and plain-language reasons.

Pure: no Django. Every finding is a ``Signal`` with a weight in 0..1 and one sentence a
merchant understands, both from its kind's declaration in ``forensics.findings``; the
claim's score combines the weights as independent evidence (``1 - Π(1 - w)``), so one
strong signal is enough for "high" and several weak ones add up without ever passing 1.
Absent evidence is never a reason in either direction: a photo that matches nothing says
so with weight 0 ("no match with your evidence" — not a pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forensics.findings import FINDING_KINDS, FindingCode, LevelRule, finding_sentence
from forensics.matching import ClaimMatch
from forensics.same_photo import NEAR_COPY_THRESHOLD, SAME_PHOTO_THRESHOLD

#: A claim is flagged (and its level at least "medium") from this score. Every derived
#: match weighs at least this and no weaker match signal does, so the flag is exactly the
#: engine's same-photograph verdict (same_photo.SAME_PHOTO_THRESHOLD).
FLAG_SCORE = 0.5
#: "high" from this score (a derived match, an AI label, or both weaker signals together).
HIGH_SCORE = 0.75
#: "medium" from this score, unflagged below FLAG_SCORE.
MEDIUM_SCORE = 0.3
#: Signals about the buyer, not the image (``LevelRule.HISTORY``): they can raise a
#: claim's score but never make it "high" unless the image evidence is flagged on its own.
HISTORY_CODES = frozenset(
    kind.code for kind in FINDING_KINDS.values() if kind.level_rule is LevelRule.HISTORY
)


@dataclass(frozen=True)
class Signal:
    """One finding: a code, its weight, a sentence for people and the facts behind it."""

    code: FindingCode
    weight: float
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


def finding_signal(
    code: FindingCode, evidence: dict[str, Any], *, weight: float | None = None
) -> Signal:
    """A signal of kind ``code`` with its English sentence built from ``evidence``; it
    weighs what the kind declares, or ``weight`` for a kind whose weight has a range."""
    return Signal(
        code,
        FINDING_KINDS[code].weight if weight is None else weight,
        finding_sentence(code, evidence),
        evidence,
    )


@dataclass(frozen=True)
class Verdict:
    """The claim's score, level and whether it is flagged, with reasons strongest first."""

    score: float
    level: str
    flagged: bool
    reasons: list[Signal]


def _original_evidence(match: ClaimMatch, *, label: str, is_frame: bool) -> dict[str, Any]:
    """The facts of a match that names the original (derived or near copy)."""
    return {
        "original": match.original_key,
        "original_label": label or match.original_key,
        "original_kind": "keyframe" if is_frame else "photo",
        "method": match.method,
        "fit": match.fit,
        "verified": match.is_verified,
        "hash_distance": match.hash_distance,
        "registered_hash": match.registered_hash,
        "inliers": match.inliers,
        # As the matcher gives it: rounding to 3 decimals lifted 0.9449 to the 0.945 bar.
        "same_photo_score": match.same_photo_score,
    }


def match_signal(
    match: ClaimMatch | None, *, original_label: str, original_is_frame: bool = False
) -> Signal:
    """The signal for the matcher's result: ``derived_from_original``, ``near_copy``
    (medium risk, not flagged: a person compares the two) or ``no_match``.

    A near copy reproduces much of the original's fine detail, or keeps its structure
    (``ClaimMatch.has_copy_structure``: a verified fit and a registered pHash a few bits
    away, or a fit of very many inliers) — never "a different photograph" then. A no-match
    names the original it resembles only when the match is geometrically verified
    (``ClaimMatch.is_verified``): an unrelated photo's chance fit of a few features says
    nothing about what it shows.

    ``original_is_frame``: the original is a packing-video frame (labelled by its video),
    not a product photo — the sentence names it so."""
    if match is not None and match.is_near_copy:
        evidence = {
            **_original_evidence(match, label=original_label, is_frame=original_is_frame),
            "threshold": SAME_PHOTO_THRESHOLD,
            # What makes it one: the fine detail, or (under the near-copy score) the structure.
            "basis": "fine_detail"
            if match.same_photo_score >= NEAR_COPY_THRESHOLD
            else "structure",
            # The registered pHash distance that shows the composition kept, if it does.
            "copy_hash": match.copy_hash,
        }
        return finding_signal(FindingCode.NEAR_COPY, evidence)
    if match is None or not match.is_derived:
        nearest: dict[str, Any] = {}
        if match is not None and match.is_verified:
            nearest = {
                "nearest_original": match.original_key,
                "nearest_label": original_label or match.original_key,
                "same_photo_score": match.same_photo_score,
                "inliers": match.inliers,
                "fit": match.fit,
                "verified": True,
            }
        elif match is not None:
            # A chance fit: its figures are kept for a reviewer, the original is not named.
            nearest = {"inliers": match.inliers, "fit": match.fit, "verified": False}
        return finding_signal(FindingCode.NO_MATCH, nearest)
    span = max(1e-6, 1.0 - SAME_PHOTO_THRESHOLD)
    strength = min(1.0, max(0.0, (match.same_photo_score - SAME_PHOTO_THRESHOLD) / span))
    lightest, heaviest = FINDING_KINDS[FindingCode.DERIVED_FROM_ORIGINAL].weight_range
    weight = lightest + (heaviest - lightest) * strength
    evidence = {
        **_original_evidence(match, label=original_label, is_frame=original_is_frame),
        "transforms": list(match.transforms),
        "region": list(match.region) if match.region is not None else None,
    }
    return finding_signal(FindingCode.DERIVED_FROM_ORIGINAL, evidence, weight=round(weight, 3))


def _noisy_or(signals: list[Signal]) -> float:
    remaining = 1.0
    for signal in signals:
        remaining *= 1.0 - min(1.0, max(0.0, signal.weight))
    return 1.0 - remaining


def verdict(signals: list[Signal]) -> Verdict:
    """Combine signals into a score (noisy-OR of the weights), a level and a flag.

    History signals (``HISTORY_CODES``) count only up to "medium" unless the other
    signals are flagged by themselves."""
    score = round(_noisy_or(signals), 4)
    image_score = _noisy_or([s for s in signals if s.code not in HISTORY_CODES])
    if image_score < FLAG_SCORE:
        score = min(score, round(HIGH_SCORE - 0.0001, 4))
    if score >= HIGH_SCORE:
        level = "high"
    elif score >= MEDIUM_SCORE:
        level = "medium"
    else:
        level = "low"
    reasons = sorted(signals, key=lambda s: -s.weight)
    return Verdict(score=score, level=level, flagged=score >= FLAG_SCORE, reasons=reasons)
