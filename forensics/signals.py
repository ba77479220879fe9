"""Pure (no Django): turn facts found outside the image match — provenance labels and
earlier submissions of the same picture — into weighted, explained signals for
``scoring.verdict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from forensics.findings import FINDING_KINDS, FindingCode
from forensics.provenance import ProvenanceLabel, classify_software
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


def _finding_code(label: ProvenanceLabel) -> FindingCode:
    """The kind of finding a provenance label makes."""
    if label.code == "c2pa_invalid":
        return FindingCode.CREDENTIALS_INVALID
    return FindingCode.AI_PROVENANCE if label.ai_generated else FindingCode.EDITING_SOFTWARE


def _c2pa_statement_weakened(label: ProvenanceLabel) -> bool:
    """A C2PA AI statement that is an ingredient's, or in a credential that fails
    validation: it says less than the picture's own, valid statement."""
    details = label.details
    return (
        details.get("manifest_role") == "ingredient"
        or details.get("validation_state") == "Invalid"
        or bool(details.get("validation_failures"))
    )


def _weight(label: ProvenanceLabel) -> float:
    code = _finding_code(label)
    if code is not FindingCode.AI_PROVENANCE:
        return FINDING_KINDS[code].weight
    possibly, surely = FINDING_KINDS[FindingCode.AI_PROVENANCE].weight_range
    # GB 45438 Label 2/3 mean "possibly" / "suspected" AI, not "generated".
    if label.code == "tc260_aigc" and str(label.details.get("Label", "1")) in {"2", "3"}:
        return possibly
    if label.code == "c2pa_ai" and _c2pa_statement_weakened(label):
        return possibly
    return surely


#: Editors one editing finding lists, at most.
EDITORS_MAX = 10


def _application(label: ProvenanceLabel) -> str:
    """The editing application a label names ("Adobe Photoshop" for "… 25.0 (Windows)")."""
    named = label.details.get("application")
    if isinstance(named, str) and named:
        return named
    app = classify_software(label.value)
    return app[0] if app is not None else label.value


def _editing_signal(labels: list[ProvenanceLabel]) -> Signal:
    """One editing finding for every editor the file names, each once (where it is first
    named); the first also fills the fields one-editor findings were stored with."""
    editors: dict[str, ProvenanceLabel] = {}
    for label in labels:
        editors.setdefault(_application(label), label)
    first = next(iter(editors.values()))
    evidence = {
        "label_code": first.code,
        "source": first.source,
        "field": first.field,
        "value": first.value,
        "details": first.details,
        "editors": [
            {"application": name, "source": e.source, "field": e.field, "value": e.value}
            for name, e in list(editors.items())[:EDITORS_MAX]
        ],
    }
    return finding_signal(FindingCode.EDITING_SOFTWARE, evidence, weight=_weight(first))


def provenance_signals(labels: list[ProvenanceLabel]) -> list[Signal]:
    """Signals for the provenance labels found in a file (none when there are none):
    the strongest label per code, so one edited file is not counted twice, and one
    editing finding that lists every editor."""
    editors = [label for label in labels if _finding_code(label) is FindingCode.EDITING_SOFTWARE]
    strongest: dict[str, ProvenanceLabel] = {}
    for label in labels:
        if _finding_code(label) is FindingCode.EDITING_SOFTWARE:
            continue  # listed together in one finding, below
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
        result.append(finding_signal(_finding_code(label), evidence, weight=_weight(label)))
    if editors:
        result.append(_editing_signal(editors))
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
