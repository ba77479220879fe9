"""XMP labels: IPTC ``DigitalSourceType`` with an AI term, the TC260 ``AIGC`` label, an
editor or generator in ``xmp:CreatorTool``, the edit history's ``stEvt:softwareAgent`` or
``tiff:Software``, a generator credited in ``photoshop:Credit`` ("Made with Google AI"), and
Midjourney's job id in ``dc:description``.

Regular expressions only: no XML parser, so no entity expansion, and a packet that is
not well-formed still yields what can be read (Pillow's ``getxmp()`` would need defusedxml
and give nothing for a broken packet; ``pyexiv2`` is GPL-3.0 native code)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from forensics.provenance.aigc import parse_aigc
from forensics.provenance.common import (
    DETAIL_MAX,
    IPTC_AI_TERMS,
    ProvenanceLabel,
    clip,
    iptc_term,
)
from forensics.provenance.containers import XMP_PACKET_MAX
from forensics.provenance.generators import (
    classify_software,
    generator_label,
    midjourney_details,
    software_label,
)

_NAME = r"(?:([\w.-]+):)?"
_ATTR_VALUE = r"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')"


XMP_FIELDS_MAX = 32  # occurrences of one field read per packet
_MADE_WITH = re.compile(
    r"\b(?:made|generated|created|produced|edited)\s+(?:with|by|using|in)\b", re.I
)


def _xmp_fields(packet: str, local: str) -> Iterator[tuple[str, str]]:
    """(qualified name, unescaped value) of every attribute or element named ``local``.

    At most ``XMP_FIELDS_MAX`` of each form, so a hostile packet stays linear-time.
    """
    attr = re.compile(r"(?<![<\w/.:-])" + _NAME + local + r"\b" + _ATTR_VALUE)
    for count, match in enumerate(attr.finditer(packet)):
        if count >= XMP_FIELDS_MAX:
            break
        prefix = match.group(1)
        value = match.group(2) if match.group(2) is not None else match.group(3)
        yield (f"{prefix}:{local}" if prefix else local), html.unescape(value)
    element = re.compile(r"<" + _NAME + local + r"\b([^>]*?)(/?)>")
    for count, match in enumerate(element.finditer(packet)):
        if count >= XMP_FIELDS_MAX:
            break
        prefix, attrs, self_closing = match.group(1), match.group(2), match.group(3)
        name = f"{prefix}:{local}" if prefix else local
        resource = re.search(r"\brdf:resource" + _ATTR_VALUE, attrs)
        if resource:
            value = resource.group(1) if resource.group(1) is not None else resource.group(2)
            yield name, html.unescape(value)
            continue
        if self_closing:
            continue
        end = packet.find(f"</{name}", match.end(), match.end() + XMP_PACKET_MAX)
        body = packet[match.end() : end if end >= 0 else match.end() + 4096]
        # Structured values (rdf:Alt/Seq of rdf:li) carry the text in their items.
        items = re.findall(r"<rdf:li\b[^>]*>([^<]*)</rdf:li>", body)
        if items:
            body = items[0]
        body = body.replace("<![CDATA[", "").replace("]]>", "")
        if "<" in body:
            continue
        yield name, html.unescape(body).strip()


def labels_from_xmp(packet: str) -> Iterator[ProvenanceLabel]:
    """The labels of one XMP packet: IPTC AI source types, then AIGC, then CreatorTool."""
    for name, value in _xmp_fields(packet, "DigitalSourceType"):
        term = iptc_term(value)
        if term in IPTC_AI_TERMS:
            yield ProvenanceLabel(
                code="iptc_ai",
                source="XMP",
                field=name,
                value=clip(value),
                ai_generated=True,
                details={"digital_source_type": term, "uri": clip(value, DETAIL_MAX)},
            )
    for name, value in _xmp_fields(packet, "AIGC"):
        details = parse_aigc(value)
        if details is not None:
            yield ProvenanceLabel(
                code="tc260_aigc",
                source="XMP",
                field=name,
                value=clip(value),
                ai_generated=True,
                details=details,
            )
    # The tool that wrote the file, then every tool of its edit history.
    for local in ("CreatorTool", "softwareAgent", "Software"):
        for name, value in _xmp_fields(packet, local):
            app = classify_software(value)
            if app is not None:
                yield software_label("XMP", name, value, app)
    for name, value in _xmp_fields(packet, "Credit"):
        # A credit line names people too ("Photo: A. Kling"): only "made with <generator>".
        app = classify_software(value) if _MADE_WITH.search(value[:500]) else None
        if app is not None and app[1]:
            yield software_label("XMP", name, value, app)
    for name, value in _xmp_fields(packet, "description"):
        midjourney = midjourney_details(value)
        if midjourney is not None:
            yield generator_label("XMP", name, value, "Midjourney", midjourney)
