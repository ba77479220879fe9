"""The Simplified Chinese catalogue is complete: no empty or fuzzy entry ships, and
every placeholder of the English text survives in the translation."""

from __future__ import annotations

import json
import re
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[1] / "locale/zh_Hans/LC_MESSAGES/django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]")


def catalogue_entries() -> list[tuple[dict[str, str], str]]:
    """(fields, raw block) per catalogue entry, header excluded."""
    found = []
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line.startswith('"'):
                fields[key] += json.loads(line)
                continue
            key, _, value = line.partition(" ")
            fields[key] = json.loads(value)
        if fields.get("msgid"):
            found.append((fields, block))
    return found


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = catalogue_entries()
    assert len(entries) > 300
    empty = [b for f, b in entries if not all(v for k, v in f.items() if k.startswith("msgstr"))]
    fuzzy = [b for _, b in entries if re.search(r"^#,.*\bfuzzy\b", b, re.MULTILINE)]
    assert empty == [], empty[:3]
    assert fuzzy == [], fuzzy[:3]


def test_placeholders_survive_translation():
    for fields, block in catalogue_entries():
        wanted = set(PLACEHOLDER.findall(fields["msgid"]))
        for key, value in fields.items():
            if key.startswith("msgstr"):
                assert wanted <= set(PLACEHOLDER.findall(value)), block


def test_each_dispute_status_has_its_own_chinese_label():
    """The status filters (the review queue's, the dispute list's) never offer two
    statuses under one Chinese name ("Open" and "Awaiting a decision" were both 待处理)."""
    from disputes.models import Dispute

    chinese = {f["msgid"]: f.get("msgstr", "") for f, _ in catalogue_entries()}
    offered = [str(s.label) for s in Dispute.Status] + ["Awaiting a decision", "Any status"]
    labels = {english: chinese[english] for english in offered}
    assert len(set(labels.values())) == len(labels), labels
