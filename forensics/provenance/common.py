"""What every provenance reader shares: the label type, value limits, text helpers and the
IPTC digital-source-type terms."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

VALUE_MAX = 300  # characters of a value quoted in a label
DETAIL_MAX = 300  # characters of a string kept in details
JSON_MAX = 2 * 1024 * 1024  # characters of a JSON text we try to parse

#: IPTC (and C2PA) digital-source-type terms that mean a trained model made or altered the
#: media. Not ``algorithmicMedia`` (IPTC: purely algorithmic, no training data, e.g. a
#: gradient), ``algorithmicallyEnhanced``, ``digitalCapture`` or ``computationalCapture``.
IPTC_AI_TERMS = frozenset(
    {
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "compositeSynthetic",
        # C2PA's own term for a model's output that is data, not media.
        "trainedAlgorithmicData",
    }
)


@dataclass(frozen=True)
class ProvenanceLabel:
    """One provenance label found in a file.

    ``code`` is one of ``c2pa_ai``, ``iptc_ai``, ``tc260_aigc``, ``sd_parameters``,
    ``comfyui_workflow``, ``generator_metadata`` (a named generator's own record),
    ``stealth_pnginfo`` (hidden in pixel LSBs), ``editing_software``, ``c2pa_invalid`` (a
    content credential that fails validation); ``source`` says where it was found
    (``C2PA manifest`` — for an editing label followed by the actions it records, e.g.
    ``C2PA manifest, c2pa.edited ×13`` —, ``XMP``, ``PNG text chunk``, ``EXIF UserComment``,
    ``EXIF Software``); ``field`` is the field name; ``value`` quotes the value
    (truncated); ``ai_generated`` is False for an editing (non-generator) app and for
    ``c2pa_invalid``; ``details`` holds parsed, JSON-serialisable facts.
    """

    code: str
    source: str
    field: str
    value: str
    ai_generated: bool
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The label as a JSON-serialisable dict."""
        return asdict(self)


def clip(text: str, limit: int = VALUE_MAX) -> str:
    """The stripped text, cut to ``limit`` characters with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_text(raw: bytes) -> str:
    """Bytes as UTF-8 text, falling back to Latin-1; trailing NULs dropped."""
    raw = raw.rstrip(b"\x00")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def json_loads(text: str) -> Any:
    """json.loads, or None when the text is not (bounded, valid) JSON."""
    if len(text) > JSON_MAX:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


_IPTC_VALUE = re.compile(r"(?:[a-z]+://[\w.-]+(?:/[\w.-]+)*/)?([A-Za-z]+)/?")


def iptc_term(value: str) -> str:
    """The IPTC digital-source-type term of a URI (or bare term); "" if not one."""
    if len(value) > 500:
        return ""
    match = _IPTC_VALUE.fullmatch(value.strip())
    return match.group(1) if match else ""
