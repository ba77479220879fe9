"""The registry of finding kinds: one declaration per kind is the only place its code,
weight, level rule and sentence are written, and every sentence is translated."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from forensics import findings
from forensics.findings import (
    ENGLISH,
    FINDING_KINDS,
    FindingCode,
    LevelRule,
    Translator,
    finding_sentence,
)
from forensics.scoring import HIGH_SCORE, Signal, verdict
from tests.forensics.finding_examples import REGISTRY, example_signals, marked_texts
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
    assert "different photograph (same-photograph score 0.30)" in messages[5]
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
        finding_sentence(signal.code, signal.evidence, translator=recording)
    marked = marked_texts()

    assert {kind.sentence for kind in FINDING_KINDS.values()} <= marked
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
