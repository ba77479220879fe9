"""Findings in the reader's language: each sentence is its kind's one template from
``forensics.findings``, filled from the finding's evidence and translated by gettext."""

from __future__ import annotations

import re
from types import SimpleNamespace

from django.utils import translation

from disputes.templatetags.findings import finding_text, score, transforms_text
from forensics.findings import Audience, FindingCode
from forensics.same_photo import NEAR_COPY_THRESHOLD, SAME_PHOTO_THRESHOLD
from forensics.scoring import match_signal
from tests.disputes.factories import a_claim_match
from tests.forensics.finding_examples import example_signals, marked_texts

PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]")


def in_language(
    language: str,
    code: str,
    evidence: dict[str, object],
    message: str = "",
    audience: Audience = Audience.MERCHANT,
) -> str:
    with translation.override(language):
        finding = SimpleNamespace(code=code, evidence=evidence, message=message)
        return finding_text(finding, audience)


def in_chinese(
    code: str,
    evidence: dict[str, object],
    message: str = "",
    audience: Audience = Audience.MERCHANT,
) -> str:
    return in_language("zh-hans", code, evidence, message, audience)


def _english_words() -> list[str]:
    """The literal English of every marked text, cut at its placeholders."""
    texts = [t for m in marked_texts() for t in (m if isinstance(m, tuple) else (m,))]
    return [piece for t in texts for piece in PLACEHOLDER.split(t) if len(piece.strip()) >= 8]


def test_every_kind_reads_in_english_and_in_chinese_from_its_evidence() -> None:
    english_words = _english_words()
    for signal in example_signals():
        english = in_language("en", signal.code, signal.evidence)
        chinese = in_chinese(signal.code, signal.evidence)

        assert english == signal.message
        assert re.search(r"[\u4e00-\u9fff]", chinese), chinese
        assert [w for w in english_words if w in chinese] == [], chinese


def test_a_near_copy_names_its_original_and_both_scores() -> None:
    score = round((NEAR_COPY_THRESHOLD + SAME_PHOTO_THRESHOLD) / 2, 2)  # inside the band
    signal = match_signal(
        a_claim_match(score=score, derived=False), original_label="MUG-1 / mug-front.jpg"
    )

    text = in_chinese(signal.code, signal.evidence, signal.message)

    assert text.startswith("可能是您的照片 MUG-1 / mug-front.jpg")
    assert f"{score:.3f}" in text and str(SAME_PHOTO_THRESHOLD) in text
    assert "Possibly" not in text


def test_a_different_photograph_of_your_product_names_the_photo_it_resembles() -> None:
    signal = match_signal(
        a_claim_match(score=0.3, derived=False), original_label="MUG-1 / mug-front.jpg"
    )

    text = in_chinese(signal.code, signal.evidence, signal.message)

    assert signal.code == FindingCode.NO_MATCH
    assert "MUG-1 / mug-front.jpg" in text and "另一张照片" in text and "0.30" in text


def test_a_photo_matching_nothing_says_so() -> None:
    signal = match_signal(None, original_label="")

    text = in_chinese(signal.code, signal.evidence, signal.message)

    assert text.startswith("与您的证据无匹配") and "这并不代表通过" in text


def test_the_edits_found_are_listed_in_the_readers_language() -> None:
    edits = ["resized", "cropped", "a_new_edit"]

    with translation.override("zh-hans"):
        assert transforms_text(edits) == "缩放、裁剪和a_new_edit"
    with translation.override("en"):
        assert transforms_text(edits) == "resized, cropped and a_new_edit"


def test_a_code_the_registry_does_not_know_keeps_its_stored_message() -> None:
    assert in_chinese("retired_kind", {}, "As stored.") == "As stored."


def test_a_third_party_reads_every_kind_about_the_merchant_in_both_languages() -> None:
    speaks_to_reader = re.compile(r"\byou|您的|你的", re.IGNORECASE)
    for signal in example_signals():
        english = in_language("en", signal.code, signal.evidence, audience=Audience.THIRD_PARTY)
        chinese = in_chinese(signal.code, signal.evidence, audience=Audience.THIRD_PARTY)
        with translation.override("en"):
            unsaid = finding_text(SimpleNamespace(code=signal.code, evidence=signal.evidence))

        assert not speaks_to_reader.search(english), english
        assert not speaks_to_reader.search(chinese), chinese
        assert re.search(r"[\u4e00-\u9fff]", chinese), chinese
        assert unsaid == english  # a template that forgets to say reads as a third party


def test_a_retired_kind_shows_its_stored_message_only_to_the_merchant() -> None:
    stored = "This is your photo A.jpg."

    assert in_language("en", "retired_kind", {}, stored, Audience.THIRD_PARTY) == (
        "A finding of a kind this version no longer describes (retired_kind)."
    )
    assert "your" not in in_chinese("retired_kind", {}, stored, Audience.THIRD_PARTY)


def test_a_score_beside_a_level_is_cut_not_rounded_up_to_the_next_bar() -> None:
    # A claim held at "medium" by the history rule scores 0.7499; "0.75" is where "high" starts.
    assert score(0.7499) == "0.749"
    assert score(0.9449) == "0.944"
    assert score(1.0) == "1.000"
    assert score(None) == ""
