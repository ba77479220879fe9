"""The GB 45438-2025 (TC260) implicit AIGC label: a JSON object with ``Label`` 1/2/3,
``ContentProducer``, ``ProduceID`` …, found in XMP, a PNG text chunk or EXIF UserComment."""

from __future__ import annotations

import html
import re
from typing import Any

from forensics.provenance.common import DETAIL_MAX, JSON_MAX, clip, json_loads

TC260_LABEL_MEANINGS = {
    "1": "AI-generated",
    "2": "possibly AI-generated",
    "3": "suspected AI-generated",
}
TC260_KEYS = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)

_AIGC_PAIR = re.compile(
    r'"(Label|ContentProducer|ProduceID|ReservedCode1|ContentPropagator|PropagateID|'
    r'ReservedCode2)"\s*:\s*(?:"([^"]*)"?|([^,}\s"]+))'
)


def _aigc_details(obj: dict[str, Any]) -> dict[str, Any] | None:
    """Normalise an AIGC JSON object; None when it has none of the AIGC keys."""
    for wrapper in ("AIGC", "TC260:AIGC", "aigc"):
        inner = obj.get(wrapper)
        if isinstance(inner, str):
            inner = json_loads(inner)
        if isinstance(inner, dict):
            obj = inner
            break
    details: dict[str, Any] = {}
    for key, value in list(obj.items())[:64]:
        canonical = str(key)
        if canonical not in TC260_KEYS:
            continue
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float | str):
            details[canonical] = clip(str(value), DETAIL_MAX)
    if not details.keys() & {"Label", "ContentProducer", "ProduceID"}:
        return None
    return details


def parse_aigc(text: str) -> dict[str, Any] | None:
    """Parse a TC260 AIGC label value into details; None when it is not one.

    Accepts the JSON object itself, a JSON string holding it, an ``{"AIGC": {...}}``
    wrapper, HTML/XML-entity-escaped JSON, and (with ``"parse_error": True``) truncated or
    otherwise broken JSON from which the known keys can still be read.
    """
    candidate = text.strip().strip("\x00")
    if not candidate:
        return None
    details: dict[str, Any] | None = None
    for _ in range(4):
        parsed = json_loads(candidate)
        if isinstance(parsed, str):
            candidate = parsed.strip()
            continue
        if isinstance(parsed, dict):
            details = _aigc_details(parsed)
            break
        unescaped = html.unescape(candidate)
        if unescaped == candidate:
            break
        candidate = unescaped
    if details is None:
        # Broken JSON: read the known keys one by one.
        pairs: dict[str, Any] = {}
        for match in _AIGC_PAIR.finditer(html.unescape(candidate)[:JSON_MAX]):
            canonical = match.group(1)
            value = match.group(2) if match.group(2) is not None else match.group(3)
            pairs.setdefault(canonical, clip(value or "", DETAIL_MAX))
        if not pairs.keys() & {"Label", "ContentProducer", "ProduceID"}:
            return None
        details = {**pairs, "parse_error": True}
    label = details.get("Label")
    if label is not None:
        details["label_meaning"] = TC260_LABEL_MEANINGS.get(str(label).strip(), "unknown")
    return details
