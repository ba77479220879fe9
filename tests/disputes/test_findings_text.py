"""Findings read in Chinese: each sentence is rebuilt from the finding's code and evidence."""

from __future__ import annotations

from types import SimpleNamespace

from django.utils import translation

from disputes.templatetags.findings import finding_text
from forensics.same_photo import NEAR_COPY_THRESHOLD, SAME_PHOTO_THRESHOLD
from forensics.scoring import match_signal
from tests.disputes.factories import a_claim_match


def in_chinese(code: str, evidence: dict[str, object], message: str = "") -> str:
    with translation.override("zh-hans"):
        return finding_text(SimpleNamespace(code=code, evidence=evidence, message=message))


def test_a_near_copy_names_its_original_and_both_scores() -> None:
    score = round((NEAR_COPY_THRESHOLD + SAME_PHOTO_THRESHOLD) / 2, 2)  # inside the band
    signal = match_signal(
        a_claim_match(score=score, derived=False), original_label="MUG-1 / mug-front.jpg"
    )
    evidence = {**signal.evidence, "original_label": "MUG-1 / mug-front.jpg"}

    text = in_chinese(signal.code, evidence, signal.message)

    assert text.startswith("可能是您的照片 MUG-1 / mug-front.jpg")
    assert f"{score:.2f}" in text and f"{SAME_PHOTO_THRESHOLD:.2f}" in text
    assert "Possibly" not in text


def test_a_different_photograph_of_your_product_names_the_photo_it_resembles() -> None:
    signal = match_signal(
        a_claim_match(score=0.3, derived=False), original_label="MUG-1 / mug-front.jpg"
    )

    text = in_chinese(signal.code, signal.evidence, signal.message)

    assert signal.code == "no_match"
    assert "MUG-1 / mug-front.jpg" in text and "另一张照片" in text and "0.30" in text


def test_a_photo_matching_nothing_says_so() -> None:
    signal = match_signal(None, original_label="")

    text = in_chinese(signal.code, signal.evidence, signal.message)

    assert text.startswith("与您的证据无匹配") and "这并不代表通过" in text
