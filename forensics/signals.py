"""Pure (no Django): turn facts found outside the image match — provenance labels and
earlier submissions of the same picture — into weighted, explained signals for
``scoring.verdict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from forensics.provenance import ProvenanceLabel
from forensics.scoring import WEIGHTS, Signal


@dataclass(frozen=True)
class BuyerCounts:
    """A buyer's other disputes: with this merchant, and counted across every merchant
    (numbers only — another merchant's disputes are never shown)."""

    with_merchant: int = 0
    all_merchants: int = 0
    high_risk: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class RepeatClaimantRule:
    """When a buyer's history becomes a finding (``REFUNDGUARD_REPEAT_CLAIMANT``)."""

    min_disputes: int = 3
    min_flagged_or_rejected: int = 2

    def crossed(self, counts: BuyerCounts) -> bool:
        """Whether the counts cross either threshold."""
        suspicious = max(counts.high_risk, counts.rejected)
        return (
            counts.all_merchants >= self.min_disputes or suspicious >= self.min_flagged_or_rejected
        )


# An AI-generation label written by the generating tool is close to proof on its own.
WEIGHT_AI_LABEL = 0.9
WEIGHT_AI_LABEL_POSSIBLE = 0.6
# An editing app in EXIF Software shows the file was edited, not how: a supporting fact.
WEIGHT_EDITING_SOFTWARE = 0.25
# The same picture in other disputes: a refund claim photo should be unique to one order.
WEIGHT_REUSED = 0.6

_AI_SOURCES = {
    "c2pa_ai": "a C2PA content credential",
    "iptc_ai": "the IPTC DigitalSourceType field",
    "tc260_aigc": "the GB 45438-2025 AIGC implicit label",
    "sd_parameters": "Stable Diffusion generation parameters",
    "comfyui_workflow": "a ComfyUI workflow",
}


def _weight(label: ProvenanceLabel) -> float:
    if not label.ai_generated:
        return WEIGHT_EDITING_SOFTWARE
    # GB 45438 Label 2/3 mean "possibly" / "suspected" AI, not "generated".
    if label.code == "tc260_aigc" and str(label.details.get("Label", "1")) in {"2", "3"}:
        return WEIGHT_AI_LABEL_POSSIBLE
    return WEIGHT_AI_LABEL


def provenance_signals(labels: list[ProvenanceLabel]) -> list[Signal]:
    """Signals for the provenance labels found in a file (none when there are none):
    the strongest label per code, so one edited file is not counted twice."""
    strongest: dict[str, ProvenanceLabel] = {}
    for label in labels:
        kept = strongest.get(label.code)
        if kept is None or _weight(label) > _weight(kept):
            strongest[label.code] = label
    result = []
    for label in strongest.values():
        evidence = {
            "source": label.source,
            "field": label.field,
            "value": label.value,
            "details": label.details,
        }
        if label.ai_generated:
            what = _AI_SOURCES.get(label.code, "an AI-generation label")
            message = (
                f"The file carries {what} saying it was made or altered by AI "
                f"({label.source}, {label.field} = {label.value[:120]})."
            )
            result.append(Signal("ai_provenance", _weight(label), message, evidence))
        else:
            message = (
                f"The file was saved by editing software: {label.field} = "
                f"“{label.value[:120]}” ({label.source})."
            )
            result.append(Signal("editing_software", WEIGHT_EDITING_SOFTWARE, message, evidence))
    return result


@dataclass(frozen=True)
class ReuseFacts:
    """Earlier submissions of the same picture in other disputes."""

    same_merchant: list[tuple[int, str, datetime]] = field(default_factory=list)
    other_merchants: int = 0

    @property
    def total(self) -> int:
        """Disputes, of any merchant, that already hold this picture."""
        return len(self.same_merchant) + self.other_merchants


def reuse_signal(facts: ReuseFacts) -> Signal | None:
    """A signal when the picture was already submitted elsewhere."""
    if facts.total == 0:
        return None
    parts = []
    if facts.same_merchant:
        dates = ", ".join(d.strftime("%Y-%m-%d") for _, _, d in facts.same_merchant[:5])
        parts.append(f"{len(facts.same_merchant)} of your other disputes ({dates})")
    if facts.other_merchants:
        n = facts.other_merchants
        parts.append(f"{n} {'dispute' if n == 1 else 'disputes'} at other merchants")
    message = (
        "The same picture (or a near copy) was already submitted in " + " and ".join(parts) + "."
    )
    return Signal(
        "reused_image",
        WEIGHT_REUSED,
        message,
        {
            "count": facts.total,
            "same_merchant": [
                {"dispute_id": d, "external_id": e, "opened_at": t.isoformat()}
                for d, e, t in facts.same_merchant
            ],
            "other_merchants": facts.other_merchants,
        },
    )


def repeat_claimant_signal(counts: BuyerCounts, rule: RepeatClaimantRule) -> Signal | None:
    """A "repeat claimant" signal when the buyer's other disputes cross the rule's
    thresholds (None otherwise). Counts only: nothing of another merchant is named."""
    if not rule.crossed(counts):
        return None
    message = (
        f"This buyer has {counts.all_merchants} other "
        f"{'dispute' if counts.all_merchants == 1 else 'disputes'} on record across all "
        f"merchants ({counts.with_merchant} with you): {counts.high_risk} flagged high "
        f"risk, {counts.rejected} rejected."
    )
    evidence = {
        "disputes_with_you": counts.with_merchant,
        "disputes_all_merchants": counts.all_merchants,
        "flagged_high_risk": counts.high_risk,
        "rejected": counts.rejected,
        "thresholds": {
            "disputes": rule.min_disputes,
            "flagged_or_rejected": rule.min_flagged_or_rejected,
        },
    }
    return Signal("repeat_claimant", WEIGHTS["repeat_claimant"], message, evidence)
