"""Unit tests of the scoring rules: signals → score, level, flag and ordered reasons."""

from __future__ import annotations

import json

from forensics import scoring
from forensics.findings import FINDING_KINDS, FindingCode
from forensics.same_photo import NEAR_COPY_THRESHOLD, SAME_PHOTO_THRESHOLD
from forensics.scoring import Signal, match_signal, verdict
from tests.disputes.factories import a_claim_match

DERIVED_LIGHTEST, DERIVED_HEAVIEST = FINDING_KINDS[FindingCode.DERIVED_FROM_ORIGINAL].weight_range


def test_no_match_is_said_plainly_and_weighs_nothing() -> None:
    signal = match_signal(None, original_label="")

    assert signal.code == "no_match"
    assert signal.weight == 0.0
    assert "no match with your evidence" in signal.message.lower()
    result = verdict([signal])
    assert result.score == 0.0
    assert result.level == "low"
    assert not result.flagged


def test_same_product_but_different_photograph_is_no_match() -> None:
    signal = match_signal(a_claim_match(score=0.3, derived=False), original_label="sku-1-front.jpg")

    assert signal.code == "no_match"
    assert signal.weight == 0.0
    assert "different photograph" in signal.message
    assert signal.evidence["nearest_original"] == "photo:12"


def test_a_near_copy_is_medium_risk_for_a_person_to_compare_not_flagged() -> None:
    match = a_claim_match(score=NEAR_COPY_THRESHOLD, derived=False)
    signal = match_signal(match, original_label="sku-1-front.jpg")
    result = verdict([signal])

    assert match.is_near_copy
    assert signal.code == "near_copy"
    assert "Possibly your photo sku-1-front.jpg" in signal.message
    assert "side by side" in signal.message
    # The original is named under "original", as for a derived match, so the pages can
    # link and show it.
    assert signal.evidence["original"] == "photo:12"
    assert signal.evidence["same_photo_score"] == round(NEAR_COPY_THRESHOLD, 3)
    json.dumps(signal.evidence)
    assert result.level == "medium"
    assert not result.flagged


def test_the_near_copy_band_ends_where_the_verdict_and_a_different_photograph_begin() -> None:
    under = a_claim_match(score=NEAR_COPY_THRESHOLD - 0.001, derived=False)
    derived = a_claim_match(score=SAME_PHOTO_THRESHOLD, derived=True)

    assert 0 < NEAR_COPY_THRESHOLD < SAME_PHOTO_THRESHOLD
    assert not under.is_near_copy
    assert match_signal(under, original_label="x").code == "no_match"
    assert not derived.is_near_copy
    assert match_signal(derived, original_label="x").code == "derived_from_original"


def test_derived_match_is_flagged_high_with_its_facts() -> None:
    signal = match_signal(
        a_claim_match(score=SAME_PHOTO_THRESHOLD, derived=True), original_label="sku-1-front.jpg"
    )
    result = verdict([signal])

    assert signal.code == "derived_from_original"
    assert signal.weight >= DERIVED_LIGHTEST >= scoring.HIGH_SCORE
    assert "sku-1-front.jpg" in signal.message
    assert "cropped and placed inside a screenshot" in signal.message
    assert "x=10, y=20" in signal.message
    assert signal.evidence["region"] == [10, 20, 30, 40]
    json.dumps(signal.evidence)  # serialisable for Finding rows
    assert result.flagged
    assert result.level == "high"


def test_derived_weight_grows_with_the_same_photo_score() -> None:
    weak = match_signal(a_claim_match(score=SAME_PHOTO_THRESHOLD, derived=True), original_label="x")
    strong = match_signal(a_claim_match(score=1.0, derived=True), original_label="x")

    assert weak.weight < strong.weight <= DERIVED_HEAVIEST


def test_thresholds_are_ordered() -> None:
    assert 0 < scoring.MEDIUM_SCORE < scoring.FLAG_SCORE < scoring.HIGH_SCORE < 1
    assert DERIVED_LIGHTEST >= scoring.FLAG_SCORE


def test_weak_signals_add_up_without_passing_one() -> None:
    software = Signal("editing_software", 0.3, "Edited with Photoshop.", {"field": "Software"})
    reused = Signal("reused_image", 0.6, "Seen in 2 other disputes.", {"count": 2})

    alone = verdict([software])
    both = verdict([software, reused])

    assert alone.level == "medium" and not alone.flagged
    assert both.score == round(1 - 0.7 * 0.4, 4)
    assert both.flagged
    assert both.level == "medium"  # flagged, but two weak signals are not "high"
    assert [s.code for s in both.reasons] == ["reused_image", "editing_software"]
    assert verdict([software, reused, reused, reused]).score < 1.0


def test_no_signals_is_low() -> None:
    result = verdict([])

    assert result.score == 0.0
    assert result.level == "low"
    assert result.reasons == []


def test_a_packing_video_frame_is_named_as_a_frame_not_a_photo() -> None:
    label = "packing video ORD-800 @ 0.0s"
    derived = match_signal(
        a_claim_match(score=0.99, derived=True), original_label=label, original_is_frame=True
    )
    near = match_signal(
        a_claim_match(score=NEAR_COPY_THRESHOLD, derived=False),
        original_label=label,
        original_is_frame=True,
    )

    assert derived.message.startswith(f"This is a frame of your {label}")
    assert near.message.startswith(f"Possibly a frame of your {label}:")
