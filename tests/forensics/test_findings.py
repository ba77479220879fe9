"""The registry of finding kinds: one declaration per kind is the only place its code,
weight, level rule and sentence are written, and every sentence is translated."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from forensics import findings
from forensics.findings import (
    ENGLISH,
    FINDING_KINDS,
    Audience,
    FindingCode,
    FindingKind,
    LevelRule,
    Translator,
    bar_text,
    finding_sentence,
    score_text,
)
from forensics.same_photo import SAME_PHOTO_THRESHOLD
from forensics.scoring import HIGH_SCORE, Signal, match_signal, verdict
from tests.forensics.finding_examples import (
    PHOTO,
    REGISTRY,
    a_match,
    example_signals,
    marked_texts,
)
from tests.test_translations import catalogue_entries

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_has_one_kind_and_keeps_the_string_stored_today() -> None:
    # Finding rows store these strings: renaming one orphans every stored finding.
    assert [code.value for code in FindingCode] == [
        "derived_from_original",
        "near_copy",
        "no_match",
        "reused_image",
        "ai_provenance",
        "editing_software",
        "repeat_claimant",
        "credentials_invalid",
    ]
    assert list(FINDING_KINDS) == list(FindingCode)
    assert all(kind.code is code for code, kind in FINDING_KINDS.items())


def test_weights_are_the_ones_the_engine_has_always_used() -> None:
    assert {code.value: kind.weight_range for code, kind in FINDING_KINDS.items()} == {
        "derived_from_original": (0.8, 0.97),
        "near_copy": (0.4, 0.4),
        "no_match": (0.0, 0.0),
        "reused_image": (0.6, 0.6),
        "ai_provenance": (0.6, 0.9),
        "editing_software": (0.25, 0.25),
        "repeat_claimant": (0.35, 0.35),
        "credentials_invalid": (0.35, 0.35),
    }


def _heaviest(code: FindingCode) -> Signal:
    return Signal(code, FINDING_KINDS[code].weight, "", {})


def test_only_an_edited_copy_or_an_ai_label_makes_a_claim_high_on_its_own() -> None:
    alone_high = {code for code in FindingCode if verdict([_heaviest(code)]).level == "high"}

    assert alone_high == {FindingCode.DERIVED_FROM_ORIGINAL, FindingCode.AI_PROVENANCE}


def test_the_buyers_history_raises_a_score_but_is_never_high_without_image_evidence() -> None:
    history = [c for c, k in FINDING_KINDS.items() if k.level_rule is LevelRule.HISTORY]
    repeat = _heaviest(FindingCode.REPEAT_CLAIMANT)
    weak = [_heaviest(FindingCode.EDITING_SOFTWARE), _heaviest(FindingCode.REUSED_IMAGE)]

    assert history == [FindingCode.REPEAT_CLAIMANT]
    piled_up = verdict([repeat] * 6)
    assert piled_up.score < HIGH_SCORE and piled_up.level == "medium"
    assert verdict(weak).level == "medium" and verdict(weak).flagged
    assert verdict([*weak, repeat]).level == "high"  # the image evidence is flagged alone
    assert verdict([_heaviest(FindingCode.NEAR_COPY), repeat]).level == "medium"


def test_every_kind_says_its_one_sentence_in_english_from_its_evidence() -> None:
    signals = example_signals()

    assert {s.code for s in signals} == set(FindingCode)
    for signal in signals:
        # The engine's message is the registry's sentence, nothing written beside it.
        assert signal.message == finding_sentence(signal.code, signal.evidence)
    messages = [s.message for s in signals]
    assert messages[0] == (
        "This is your photo MUG-1 / mug-front.jpg, resized, cropped and placed inside a "
        "screenshot, with the area at x=10, y=20 (30×40 pixels) changed."
    )
    assert messages[1].startswith("This is a frame of your packing video ORD-800 @ 3.0s, ")
    assert messages[2] == "This is your photo MUG-1 / mug-front.jpg."
    assert messages[4].startswith("Possibly a frame of your packing video ORD-800 @ 3.0s: ")
    assert messages[3] == (
        "Possibly your photo MUG-1 / mug-front.jpg: it reproduces much of that picture's fine "
        "detail (same-photograph score 0.910; an edited copy scores at least 0.945) and 140 of "
        "its features line up with that picture's. That is not enough to call it an edited "
        "copy; compare the two side by side."
    )
    assert (
        "; it shows what is in MUG-1 / mug-front.jpg (140 of its features line up with that "
        "picture's), but not its fine detail (same-photograph score 0.300), so it is most "
        "likely a different photograph. That is not a pass" in messages[5]
    )
    assert messages[6] == (
        "No match with your evidence: this photo is not one of your product photos or "
        "packing-video frames, nor an edited copy of one. That is not a pass; look at it "
        "yourself."
    )
    assert (
        "The same picture (or a near copy) was already submitted in 2 of your other disputes "
        "(2025-03-04, 2025-03-04) and 1 dispute at other merchants." in messages
    )
    assert (
        "This buyer has 1 other dispute on record across all merchants (1 with you): "
        "0 flagged high risk, 0 rejected." in messages
    )


def test_a_sentence_survives_evidence_stored_before_a_fact_was_recorded() -> None:
    for code in FindingCode:
        assert finding_sentence(code, {})


def test_every_text_a_sentence_is_built_from_is_marked_for_translation() -> None:
    asked: set[str | tuple[str, str]] = set()

    def gettext(text: str) -> str:
        asked.add(text)
        return text

    def ngettext(singular: str, plural: str, number: int) -> str:
        asked.add((singular, plural))
        return ENGLISH.ngettext(singular, plural, number)

    recording = Translator(gettext=gettext, ngettext=ngettext)
    for signal in example_signals():
        for audience in Audience:
            finding_sentence(signal.code, signal.evidence, translator=recording, audience=audience)
    marked = marked_texts()

    assert {kind.sentence for kind in FINDING_KINDS.values()} <= marked
    assert {
        kind.third_party_sentence
        for kind in FINDING_KINDS.values()
        if kind.third_party_sentence is not None
    } <= marked
    assert {kind.title for kind in FINDING_KINDS.values()} <= marked
    assert asked - marked == set(), "translated at run time but invisible to makemessages"


def test_every_marked_text_has_a_chinese_translation() -> None:
    translated: dict[str | tuple[str, str], list[str]] = {}
    for fields, block in catalogue_entries():
        if re.search(r"^#,.*\bfuzzy\b", block, re.MULTILINE):
            continue  # a fuzzy entry is not shipped
        key = (
            (fields["msgid"], fields["msgid_plural"])
            if "msgid_plural" in fields
            else fields["msgid"]
        )
        translated[key] = [v for k, v in fields.items() if k.startswith("msgstr")]

    missing = [t for t in marked_texts() if not all(translated.get(t) or [""])]

    assert missing == []


WEIGHT_NAME = re.compile("weight", re.IGNORECASE)


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def _is_finding_code(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in set(FindingCode)
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "FindingCode"
    )


def weight_definitions(source: str) -> list[str]:
    """Where ``source`` writes a weight down: a module/class constant named like a weight
    holding a number, a table from finding code to number, or ``weight=<number>`` (or
    ``Signal(code, <number>, …)``) in a call."""
    tree = ast.parse(source)
    found = []
    for scope in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef))]:
        for statement in scope.body:
            targets: list[ast.expr] = []
            if isinstance(statement, ast.Assign):
                targets = statement.targets
            elif isinstance(statement, ast.AnnAssign):
                targets = [statement.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            value = getattr(statement, "value", None)
            if (
                value is not None
                and any(WEIGHT_NAME.search(n) for n in names)
                and any(_is_number(n) for n in ast.walk(value))
            ):
                found.append(f"line {statement.lineno}: constant {names[0]}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and any(
            _is_finding_code(k) and _is_number(v)
            for k, v in zip(node.keys, node.values, strict=True)
        ):
            found.append(f"line {node.lineno}: table of finding codes to numbers")
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            weights = [k.value for k in node.keywords if k.arg == "weight"]
            if name == "Signal" and len(node.args) > 1:
                weights.append(node.args[1])
            if any(_is_number(w) for w in weights):
                found.append(f"line {node.lineno}: {name}(…) with a literal weight")
    return found


def test_the_weight_scan_finds_each_way_of_writing_a_weight_down() -> None:
    written = """
WEIGHT_REUSED = 0.6
WEIGHTS: dict[str, float] = {"near_copy": 0.4}
class Rules:
    AI_WEIGHT = 1 - 0.1
odds = {FindingCode.NO_MATCH: 0}
def raise_it():
    weight = strength * 2  # a computation, not a definition
    Signal("reused_image", 0.6, "seen before")
    finding_signal(FindingCode.NEAR_COPY, {}, weight=0.4)
"""
    assert len(weight_definitions(written)) == 7
    assert weight_definitions(REGISTRY.read_text(encoding="utf-8"))  # where they belong


def _shipped_sources() -> list[Path]:
    """Every Python file of the first-party packages (tests, benchmark scripts and
    migrations are not where the product decides anything)."""
    packages = [p for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"]
    return sorted(
        path
        for package in packages
        for path in package.rglob("*.py")
        if "migrations" not in path.parts and path != REGISTRY
    )


def test_no_weight_is_written_anywhere_but_the_registry() -> None:
    sources = _shipped_sources()
    written = {
        str(path.relative_to(ROOT)): found
        for path in sources
        if (found := weight_definitions(path.read_text(encoding="utf-8")))
    }

    assert ROOT / "forensics" / "scoring.py" in sources
    assert ROOT / "forensics" / "signals.py" in sources
    assert written == {}


def test_a_code_that_is_no_kind_is_refused() -> None:
    assert findings.finding_kind("near_copy") is FINDING_KINDS[FindingCode.NEAR_COPY]
    with pytest.raises(ValueError):
        finding_sentence("not_a_kind", {})


def _chinese() -> Translator:
    """Simplified Chinese straight from the ``.po`` source (what gettext serves once it is
    compiled), so the engine's two voices can be read in Chinese without Django."""
    texts: dict[str, str] = {}
    plurals: dict[tuple[str, str], str] = {}
    for fields, block in catalogue_entries():
        if re.search(r"^#,.*\bfuzzy\b", block, re.MULTILINE):
            continue
        if "msgid_plural" in fields:
            plurals[(fields["msgid"], fields["msgid_plural"])] = fields.get("msgstr[0]", "")
        else:
            texts[fields["msgid"]] = fields.get("msgstr", "")

    def ngettext(singular: str, plural: str, number: int) -> str:
        return plurals.get((singular, plural)) or ENGLISH.ngettext(singular, plural, number)

    return Translator(gettext=lambda text: texts.get(text) or text, ngettext=ngettext)


#: What speaks to the reader: English "you/your/yourself", Chinese "your" (您的/你的).
SPEAKS_TO_READER = re.compile(r"\byou|您的|你的", re.IGNORECASE)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
#: The kinds whose sentence names the merchant's originals, disputes or dealings.
ABOUT_THE_MERCHANT = {
    FindingCode.DERIVED_FROM_ORIGINAL,
    FindingCode.NEAR_COPY,
    FindingCode.NO_MATCH,
    FindingCode.REUSED_IMAGE,
    FindingCode.REPEAT_CLAIMANT,
}


def test_every_kind_says_your_to_the_merchant_and_the_merchants_to_anyone_else() -> None:
    chinese = _chinese()
    worded_twice: set[str] = set()
    for signal in example_signals():
        # The engine (and the CLI, which prints its message) speaks to the merchant.
        assert signal.message == finding_sentence(
            signal.code, signal.evidence, audience=Audience.MERCHANT
        )
        for language in (ENGLISH, chinese):
            to_merchant, to_others = (
                finding_sentence(signal.code, signal.evidence, translator=language, audience=a)
                for a in (Audience.MERCHANT, Audience.THIRD_PARTY)
            )
            if language is chinese:
                assert CHINESE.search(to_merchant) and CHINESE.search(to_others), to_others
            assert not SPEAKS_TO_READER.search(to_others), to_others
            if to_merchant != to_others:
                worded_twice.add(signal.code)
                assert SPEAKS_TO_READER.search(to_merchant) or "您" in to_merchant, to_merchant
                assert "merchant" in to_others or "商家" in to_others, to_others

    assert worded_twice >= ABOUT_THE_MERCHANT


def test_a_photo_of_the_merchant_is_yours_to_them_and_the_merchants_to_others() -> None:
    chinese = _chinese()
    derived, frame = example_signals()[:2]

    def say(signal: Signal, language: Translator, audience: Audience) -> str:
        return finding_sentence(
            signal.code, signal.evidence, translator=language, audience=audience
        )

    assert say(derived, ENGLISH, Audience.MERCHANT).startswith("This is your photo MUG-1")
    assert say(derived, ENGLISH, Audience.THIRD_PARTY).startswith(
        "This is the merchant's photo MUG-1"
    )
    assert say(frame, ENGLISH, Audience.THIRD_PARTY).startswith(
        "This is a frame of the merchant's packing video ORD-800"
    )
    assert say(derived, chinese, Audience.MERCHANT).startswith("这是您的照片 MUG-1")
    assert say(derived, chinese, Audience.THIRD_PARTY).startswith("这是商家的照片 MUG-1")


def test_a_kind_that_speaks_to_the_merchant_must_also_say_it_to_anyone_else() -> None:
    def declare(**sentences: str) -> FindingKind:
        return FindingKind(
            code=FindingCode.NO_MATCH,
            title="later kind",
            weight=0.0,
            level_rule=LevelRule.IMAGE,
            facts=lambda evidence, language: {},
            **sentences,  # type: ignore[arg-type]
        )

    with pytest.raises(ValueError, match="third_party_sentence"):
        declare(sentence="Not in your evidence.")
    with pytest.raises(ValueError, match="third_party_sentence"):
        declare(sentence="Two disputes with you.")
    kind = declare(
        sentence="Not in your evidence.", third_party_sentence="Not in the merchant's evidence."
    )
    assert kind.sentence_for(Audience.MERCHANT) == "Not in your evidence."
    assert kind.sentence_for(Audience.THIRD_PARTY) == "Not in the merchant's evidence."
    neutral = declare(sentence="The file carries a label.")
    assert neutral.sentence_for(Audience.THIRD_PARTY) == "The file carries a label."


@pytest.mark.parametrize(
    ("score", "bar", "shown_score", "shown_bar"),
    [
        (0.942, 0.945, "0.942", "0.945"),
        (0.9449, 0.945, "0.944", "0.945"),
        (0.9999, 1.0, "0.999", "1.00"),
        (0.945, 0.945, "0.945", "0.945"),
        (0.91, 0.91, "0.910", "0.91"),
    ],
)
def test_a_score_is_never_printed_at_or_above_a_bar_it_is_below(
    score: float, bar: float, shown_score: str, shown_bar: str
) -> None:
    evidence = {"original_label": PHOTO, "same_photo_score": score, "threshold": bar}

    text = finding_sentence(FindingCode.NEAR_COPY, evidence)

    assert (score_text(score), bar_text(bar)) == (shown_score, shown_bar)
    assert (Decimal(shown_score) < Decimal(shown_bar)) == (score < bar)
    assert (
        f"(same-photograph score {shown_score}; an edited copy scores at least {shown_bar})" in text
    )


def test_the_engines_near_copy_just_under_the_bar_reads_under_it() -> None:
    # 0.9449 was stored rounded to 0.945 and printed "0.94; … at least 0.94".
    signal = match_signal(a_match(score=0.9449, derived=False), original_label=PHOTO)

    assert signal.code == FindingCode.NEAR_COPY
    assert (
        f"score 0.944; an edited copy scores at least {bar_text(SAME_PHOTO_THRESHOLD)})"
        in signal.message
    )
    assert bar_text(SAME_PHOTO_THRESHOLD) == "0.945"


#: A near copy by its structure, as the engine stores it (issue 21: cropped twice).
STRUCTURE = {
    "original_label": PHOTO,
    "inliers": 300,
    "fit": "homography",
    "verified": True,
    "hash_distance": 20,
    "registered_hash": 2,
    "same_photo_score": 0.5217,
    "threshold": SAME_PHOTO_THRESHOLD,
    "basis": "structure",
    "copy_hash": 2,
}


def test_a_near_copy_by_its_structure_states_its_figures_in_both_voices() -> None:
    merchant = finding_sentence(FindingCode.NEAR_COPY, STRUCTURE)
    reviewer = finding_sentence(FindingCode.NEAR_COPY, STRUCTURE, audience=Audience.THIRD_PARTY)

    figures = (
        ": 300 of its features line up with that picture's and its perceptual hash differs "
        "from that picture's in 2 of 64 bits once laid over it, though less of its fine detail "
        "matches (same-photograph score 0.521; an edited copy scores at least 0.945)."
    )
    assert merchant.startswith(f"Possibly your photo {PHOTO}{figures}")
    assert reviewer.startswith(f"Possibly the merchant's photo {PHOTO}{figures}")
    assert "different photograph" not in merchant + reviewer


def test_a_near_copy_by_its_inliers_alone_states_no_hash() -> None:
    # The registered hash (16 bits) did not show the copy: only the inliers are said.
    by_inliers_alone = {**STRUCTURE, "registered_hash": 16, "copy_hash": None}

    text = finding_sentence(FindingCode.NEAR_COPY, by_inliers_alone)

    assert ": 300 of its features line up with that picture's, though less" in text
    assert "perceptual hash" not in text and "16" not in text


def test_a_no_match_names_its_nearest_original_only_when_verified() -> None:
    verified = {
        "nearest_original": "photo:12",
        "nearest_label": PHOTO,
        "same_photo_score": 0.3,
        "inliers": 140,
        "verified": True,
    }
    # A chance fit, and a finding stored before verification was recorded: nothing named.
    unverified = {**verified, "inliers": 7, "verified": False}
    stored_before = {k: v for k, v in verified.items() if k != "verified"}

    for audience in Audience:
        assert PHOTO in finding_sentence(FindingCode.NO_MATCH, verified, audience=audience)
        for evidence in (unverified, stored_before):
            text = finding_sentence(FindingCode.NO_MATCH, evidence, audience=audience)
            assert PHOTO not in text and "shows what is in" not in text
