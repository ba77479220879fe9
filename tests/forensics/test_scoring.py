"""Unit tests of the scoring rules: signals → score, level, flag and ordered reasons."""

from __future__ import annotations

import dataclasses
import json

from forensics import scoring
from forensics.findings import FINDING_KINDS, FindingCode
from forensics.matching import NEAR_COPY_INLIERS, VERIFIED_INLIERS, ClaimMatch
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


def _fitted(
    *, inliers: int, fit: str, score: float, registered: int | None, hash_distance: int = 24
) -> ClaimMatch:
    """A match that is no edited copy, with the geometric evidence given."""
    return dataclasses.replace(
        a_claim_match(score=score, derived=False),
        inliers=inliers,
        fit=fit,
        registered_hash=registered,
        hash_distance=hash_distance,
    )


def test_a_chance_fit_of_seven_features_does_not_name_the_original() -> None:
    # An unrelated photo's fallback similarity: 7 inliers say nothing about what it shows.
    chance = _fitted(inliers=7, fit="similarity", score=0.0, registered=30)

    signal = match_signal(chance, original_label="sku-1-front.jpg")

    assert not chance.is_verified
    assert signal.code == "no_match"
    assert "sku-1-front.jpg" not in signal.message
    assert "shows what is in" not in signal.message
    assert "nearest_original" not in signal.evidence
    assert signal.evidence["inliers"] == 7 and signal.evidence["verified"] is False


def test_a_verified_different_photograph_is_named_with_its_inliers() -> None:
    honest = _fitted(inliers=VERIFIED_INLIERS, fit="homography", score=0.12, registered=22)

    signal = match_signal(honest, original_label="sku-1-front.jpg")

    assert signal.code == "no_match"
    assert (
        f"it shows what is in sku-1-front.jpg ({VERIFIED_INLIERS} of its features line up "
        "with that picture's), but not its fine detail (same-photograph score 0.120)"
    ) in signal.message


def test_three_hundred_inliers_and_a_registered_hash_of_two_bits_are_a_near_copy() -> None:
    # A copy cropped twice: its fine detail covers too little of the frame for the verdict
    # (0.5217), but its structure is the original's. Never "a different photograph".
    cropped_twice = _fitted(inliers=300, fit="homography", score=0.5217, registered=2)

    signal = match_signal(cropped_twice, original_label="sku-1-front.jpg")
    result = verdict([signal])

    assert cropped_twice.is_near_copy and cropped_twice.same_photo_score < NEAR_COPY_THRESHOLD
    assert signal.code == "near_copy" and signal.evidence["basis"] == "structure"
    assert "different photograph" not in signal.message
    assert signal.message == (
        "Possibly your photo sku-1-front.jpg: 300 of its features line up with that picture's "
        "and its perceptual hash differs from that picture's in 2 of 64 bits once laid over "
        "it, though less of its fine detail matches (same-photograph score 0.521; an edited "
        "copy scores at least 0.945). That is not enough to call it an edited copy; compare "
        "the two side by side."
    )
    assert result.level == "medium" and not result.flagged


def test_hundreds_of_inliers_alone_do_not_make_a_near_copy() -> None:
    # A buyer's own photo of a flat carton fits one homography with up to 277 inliers
    # (issue 21, grocery photos): under NEAR_COPY_INLIERS the registered hash decides.
    other_photo = _fitted(inliers=277, fit="homography", score=0.72, registered=20)

    assert other_photo.inliers < NEAR_COPY_INLIERS

    signal = match_signal(other_photo, original_label="sku-1-front.jpg")

    assert not other_photo.is_near_copy
    assert signal.code == "no_match"
    assert "(277 of its features line up with that picture's)" in signal.message


def test_very_many_inliers_are_a_near_copy_stating_them_without_a_close_hash() -> None:
    # A regenerated copy the verdict missed: 405 inliers, its hash 16 bits away.
    regenerated = _fitted(inliers=405, fit="homography", score=0.8467, registered=16)

    signal = match_signal(regenerated, original_label="sku-1-front.jpg")

    assert NEAR_COPY_INLIERS <= 405 and regenerated.copy_hash is None
    assert signal.code == "near_copy"
    assert signal.message.startswith(
        "Possibly your photo sku-1-front.jpg: 405 of its features line up with that "
        "picture's, though less of its fine detail matches (same-photograph score 0.846;"
    )


def test_a_plain_hash_a_few_bits_away_without_a_fit_is_no_near_copy() -> None:
    # Adjacent studio views of one object on one backdrop (COIL-100, ETH-80) come within
    # 2–8 bits unregistered: the plain hash is no evidence of a copy.
    studio_view = dataclasses.replace(
        _fitted(inliers=0, fit="", score=0.78, registered=None, hash_distance=4),
        method="phash",
    )

    signal = match_signal(studio_view, original_label="sku-1-front.jpg")

    assert not studio_view.is_near_copy
    assert signal.code == "no_match" and "sku-1-front.jpg" not in signal.message


def test_the_registered_hash_counts_only_for_a_verified_fit() -> None:
    # A chance fit of a few features can land a warped crop a few bits from the original.
    chance = _fitted(inliers=VERIFIED_INLIERS - 1, fit="homography", score=0.0, registered=2)

    assert not chance.is_near_copy
    assert match_signal(chance, original_label="x").code == "no_match"


def test_a_near_copy_by_its_fine_detail_states_its_inliers_and_a_score_under_the_bar() -> None:
    signal = match_signal(a_claim_match(score=0.9449, derived=False), original_label="A.jpg")

    assert signal.code == "near_copy" and signal.evidence["basis"] == "fine_detail"
    assert signal.message == (
        "Possibly your photo A.jpg: it reproduces much of that picture's fine detail "
        "(same-photograph score 0.944; an edited copy scores at least 0.945) and 140 of its "
        "features line up with that picture's. That is not enough to call it an edited copy; "
        "compare the two side by side."
    )
