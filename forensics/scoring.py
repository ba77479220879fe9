"""Turn what the analysis found into a score, a risk level and plain-language reasons.

Pure: no Django. Every finding is a ``Signal`` with a weight in 0..1 and one sentence a
merchant understands; the claim's score combines the weights as independent evidence
(``1 - Π(1 - w)``), so one strong signal is enough for "high" and several weak ones add
up without ever passing 1. Absent evidence is never a reason in either direction: a photo
that matches nothing says so with weight 0 ("no match with your evidence" — not a pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forensics.matching import ClaimMatch
from forensics.same_photo import SAME_PHOTO_THRESHOLD

#: A claim is flagged (and its level at least "medium") from this score. The engine's
#: same-photograph verdict maps to DERIVED_MIN_WEIGHT ≥ FLAG_SCORE, so every derived match
#: is flagged and no weaker signal on its own is — so in benchmarks/detection.py (seed 7)
#: the flag's recall and false-flag rate are exactly those of the engine's
#: same_photo.SAME_PHOTO_THRESHOLD (the benchmark measures the flag, not the raw score).
FLAG_SCORE = 0.5
#: "high" from this score (a derived match, an AI label, or both weaker signals together).
HIGH_SCORE = 0.75
#: "medium" from this score, unflagged below FLAG_SCORE.
MEDIUM_SCORE = 0.3
#: Weight of a derived match: DERIVED_MIN_WEIGHT at the engine's threshold, rising to
#: DERIVED_MAX_WEIGHT for a claim that reproduces its original's whole frame.
DERIVED_MIN_WEIGHT = 0.8
DERIVED_MAX_WEIGHT = 0.97

#: Default weights for the signals other modules raise (they may pass their own).
WEIGHTS: dict[str, float] = {
    "derived_from_original": DERIVED_MAX_WEIGHT,
    "reused_image": 0.6,
    "ai_provenance": 0.85,
    "editing_software": 0.3,
    "near_copy": 0.4,
    "no_match": 0.0,
    "repeat_claimant": 0.35,
}
#: Signals about the buyer, not the image. They can raise a claim's score but never make it
#: "high" unless the image evidence is flagged on its own (history is not proof).
HISTORY_CODES = frozenset({"repeat_claimant"})

_TRANSFORM_WORDS = {
    "resized": "resized",
    "cropped": "cropped",
    "rotated": "rotated",
    "mirrored": "mirrored",
    "border": "given a border",
    "screenshot": "placed inside a screenshot",
    "rephotographed": "re-photographed from a screen",
    "colour_filtered": "colour-filtered",
    "recompressed": "re-compressed",
}


@dataclass(frozen=True)
class Signal:
    """One finding: a code, its weight, a sentence for people and the facts behind it."""

    code: str
    weight: float
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The claim's score, level and whether it is flagged, with reasons strongest first."""

    score: float
    level: str
    flagged: bool
    reasons: list[Signal]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _original_evidence(match: ClaimMatch) -> dict[str, Any]:
    """The facts of a match that names the original (derived or near copy)."""
    return {
        "original": match.original_key,
        "method": match.method,
        "hash_distance": match.hash_distance,
        "inliers": match.inliers,
        "same_photo_score": round(match.same_photo_score, 3),
    }


def match_signal(
    match: ClaimMatch | None, *, original_label: str, original_is_frame: bool = False
) -> Signal:
    """The signal for the matcher's result: ``derived_from_original``, ``near_copy``
    (medium risk, not flagged: a person compares the two) or ``no_match``.

    ``original_is_frame``: the original is a packing-video frame (labelled by its video),
    not a product photo — the sentence names it so."""
    yours = "a frame of your" if original_is_frame else "your photo"
    if match is not None and match.is_near_copy:
        label = original_label or match.original_key
        score = round(match.same_photo_score, 3)
        return Signal(
            "near_copy",
            WEIGHTS["near_copy"],
            f"Possibly {yours} {label}: it reproduces much of that picture's fine detail "
            f"(same-photograph score {score:.2f}; an edited copy scores at least "
            f"{SAME_PHOTO_THRESHOLD:.2f}), but not enough to call it an edited copy. "
            "Compare the two side by side.",
            {**_original_evidence(match), "threshold": SAME_PHOTO_THRESHOLD},
        )
    if match is None or not match.is_derived:
        evidence: dict[str, Any] = {}
        message = "No match with your evidence: this photo was not found among your originals."
        if match is not None:
            evidence = {
                "nearest_original": match.original_key,
                "nearest_label": original_label or match.original_key,
                "same_photo_score": round(match.same_photo_score, 3),
                "inliers": match.inliers,
            }
            message = (
                f"No match with your evidence: it shows what is in {original_label or 'your photo'}"
                ", but it is a different photograph, not an edited copy."
            )
        return Signal("no_match", WEIGHTS["no_match"], message, evidence)
    span = max(1e-6, 1.0 - SAME_PHOTO_THRESHOLD)
    strength = min(1.0, max(0.0, (match.same_photo_score - SAME_PHOTO_THRESHOLD) / span))
    weight = DERIVED_MIN_WEIGHT + (DERIVED_MAX_WEIGHT - DERIVED_MIN_WEIGHT) * strength
    label = original_label or match.original_key
    words = [_TRANSFORM_WORDS[t] for t in match.transforms if t in _TRANSFORM_WORDS]
    how = f", {_join(words)}" if words else ""
    where = ""
    if match.region is not None:
        x, y, w, h = match.region
        where = f", with the area at x={x}, y={y} ({w}×{h} pixels) changed"
    message = f"This is {yours} {label}{how}{where}."
    evidence = {
        **_original_evidence(match),
        "transforms": list(match.transforms),
        "region": list(match.region) if match.region is not None else None,
    }
    return Signal("derived_from_original", round(weight, 3), message, evidence)


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
