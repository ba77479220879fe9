"""Pure (no Django): turn facts found outside the image match — provenance labels and
earlier submissions of the same picture — into weighted, explained signals for
``scoring.verdict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from forensics.findings import FINDING_KINDS, FindingCode
from forensics.provenance import ProvenanceLabel
from forensics.scoring import Signal, finding_signal


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


def _weight(label: ProvenanceLabel) -> float:
    if not label.ai_generated:
        return FINDING_KINDS[FindingCode.EDITING_SOFTWARE].weight
    possibly, surely = FINDING_KINDS[FindingCode.AI_PROVENANCE].weight_range
    # GB 45438 Label 2/3 mean "possibly" / "suspected" AI, not "generated".
    if label.code == "tc260_aigc" and str(label.details.get("Label", "1")) in {"2", "3"}:
        return possibly
    return surely


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
            "label_code": label.code,
            "source": label.source,
            "field": label.field,
            "value": label.value,
            "details": label.details,
        }
        code = FindingCode.AI_PROVENANCE if label.ai_generated else FindingCode.EDITING_SOFTWARE
        result.append(finding_signal(code, evidence, weight=_weight(label)))
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
    return finding_signal(
        FindingCode.REUSED_IMAGE,
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
    return finding_signal(FindingCode.REPEAT_CLAIMANT, evidence)
