"""Read AI-generation and editing provenance labels from an image file's bytes. Pure: no Django.

``read_provenance(data)`` returns every label found, in a stable order:

* **C2PA** manifests (via c2pa-python, when installed): any ``digitalSourceType`` in the
  manifest store whose IPTC term is an AI one (``trainedAlgorithmicMedia``,
  ``compositeWithTrainedAlgorithmicMedia``, ``algorithmicMedia``, ``compositeSynthetic``).
  Signatures are verified by the SDK but the label is reported whatever the result; the
  validation state is in ``details``. Remote manifests and OCSP are never fetched.
* **XMP** packets (JPEG APP1 incl. extended XMP, PNG iTXt incl. compressed, WebP ``XMP ``,
  and any uncompressed ``<x:xmpmeta>`` packet anywhere in the bytes):
  ``Iptc4xmpExt:DigitalSourceType`` with an AI term, the GB 45438-2025 implicit label
  ``TC260:AIGC`` (a JSON object), and ``xmp:CreatorTool`` naming an editor or generator.
* **PNG text chunks** (tEXt/zTXt/iTXt, also after IDAT): ``AIGC``, Stable Diffusion
  WebUI ``parameters``, ComfyUI ``prompt``/``workflow``, and ``Software``.
* **EXIF** (JPEG APP1, PNG eXIf, WebP EXIF, or whatever Pillow opens lazily):
  ``UserComment`` carrying AIGC JSON or SD parameters, and ``Software`` naming an
  editing or AI application. Camera firmware strings are not labels.

Absent metadata gives ``[]``: absence is never a label. Nothing here decodes pixels, every
read is bounded, and malformed input is skipped, never raised. XML is matched with
regular expressions for these few fields: no XML parser, so no entity expansion.
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image

logger = logging.getLogger(__name__)

__all__ = ["ProvenanceLabel", "read_provenance"]

VALUE_MAX = 300  # characters of a value quoted in a label
DETAIL_MAX = 300  # characters of a string kept in details
XMP_PACKET_MAX = 4 * 1024 * 1024  # bytes of one XMP packet
XMP_PACKETS_MAX = 16
TEXT_CHUNK_MAX = 8 * 1024 * 1024  # bytes of one (decompressed) PNG text chunk
TEXT_CHUNKS_MAX = 256
EXIF_MAX = 1024 * 1024  # bytes of one EXIF block handed to Pillow
PNG_CHUNKS_MAX = 200_000
JPEG_SEGMENTS_MAX = 4096
WEBP_CHUNKS_MAX = 4096
JSON_MAX = 2 * 1024 * 1024  # characters of a JSON text we try to parse

IPTC_AI_TERMS = frozenset(
    {
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "algorithmicMedia",
        "compositeSynthetic",
    }
)

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


@dataclass(frozen=True)
class ProvenanceLabel:
    """One provenance label found in a file.

    ``code`` is one of ``c2pa_ai``, ``iptc_ai``, ``tc260_aigc``, ``sd_parameters``,
    ``comfyui_workflow``, ``editing_software``; ``source`` says where it was found
    (``C2PA manifest``, ``XMP``, ``PNG text chunk``, ``EXIF UserComment``,
    ``EXIF Software``); ``field`` is the field name; ``value`` quotes the value
    (truncated); ``ai_generated`` is False only for an editing (non-generator) app;
    ``details`` holds parsed, JSON-serialisable facts.
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


# ---------------------------------------------------------------------------------------
# Applications named in EXIF Software / XMP CreatorTool / PNG Software.
# (pattern, canonical name, is an AI generator). First match wins: specific before general.

_APPS: tuple[tuple[re.Pattern[str], str, bool], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), name, ai)
    for pattern, name, ai in (
        # AI generators
        (r"\bfirefly\b", "Adobe Firefly", True),
        (r"\bmidjourney\b", "Midjourney", True),
        (r"\bdall[\s\u00b7\-.·]?e\b", "DALL·E", True),
        (r"\bstable[\s_-]?diffusion\b", "Stable Diffusion", True),
        (r"\bsdxl\b", "Stable Diffusion", True),
        (r"\bautomatic1111\b|\bsd[\s_-]?webui\b", "Stable Diffusion WebUI", True),
        (r"\bcomfy\s?ui\b", "ComfyUI", True),
        (r"\bnovel\s?ai\b", "NovelAI", True),
        (r"\binvoke\s?ai\b", "InvokeAI", True),
        (r"\bfooocus\b", "Fooocus", True),
        (r"\bleonardo\.?ai\b", "Leonardo.Ai", True),
        (r"\bideogram\b", "Ideogram", True),
        (
            r"\bbing image creator\b|\bimage creator from (microsoft )?designer\b",
            "Bing Image Creator",
            True,
        ),
        (r"\bopenai\b|\bchatgpt\b|\bgpt-?4o\b", "OpenAI", True),
        (r"\bflux(\.1)?[\s-](dev|pro|schnell|kontext)\b|\bblack forest labs\b", "FLUX", True),
        (r"\bkling\b|可灵", "Kling", True),
        (r"即梦|\bjimeng\b|\bdreamina\b", "Jimeng/Dreamina", True),
        (r"豆包|\bdoubao\b", "Doubao", True),
        (r"通义万相|\bwanx\b|\btongyi\b", "Tongyi Wanxiang", True),
        (r"文心一格|\bernie[\s-]?vilg\b", "ERNIE-ViLG", True),
        # editing applications
        (r"\blightroom\b", "Adobe Lightroom", False),
        (r"\bphotoshop\b|\bimageready\b", "Adobe Photoshop", False),
        (r"\bgimp\b", "GIMP", False),
        (r"\bremini\b", "Remini", False),
        (r"\blensa\b", "Lensa", False),
        (r"美图|\bmeitu\b|\bmtxx\b|\bbeautycam\b|美颜相机", "Meitu", False),
        (r"醒图|\bhypic\b|\bxingtu\b", "Xingtu (Hypic)", False),
        (r"\bwink\b", "Wink", False),
        (r"\bpicsart\b", "Picsart", False),
        (r"\bsnapseed\b", "Snapseed", False),
        (r"\bcanva\b", "Canva", False),
        (r"\bfotor\b", "Fotor", False),
        (r"\bfacetune\b", "Facetune", False),
        (r"\bfaceapp\b", "FaceApp", False),
        (r"\bpixelmator\b", "Pixelmator", False),
        (r"\baffinity photo\b", "Affinity Photo", False),
        (r"\bpaint\.net\b", "Paint.NET", False),
        (r"\bphotopea\b", "Photopea", False),
        (r"\bpixlr\b", "Pixlr", False),
        (r"\bphotoscape\b", "PhotoScape", False),
        (r"\bpolarr\b", "Polarr", False),
        (r"\bluminar\b", "Luminar", False),
        (r"\bphotoroom\b", "PhotoRoom", False),
        (r"\bpaintshop\b", "PaintShop Pro", False),
        (r"\bcapcut\b|剪映", "CapCut", False),
        (r"稿定|\bgaoding\b", "Gaoding", False),
        (r"黄油相机", "Huangyou Camera", False),
        (r"轻颜|\bfaceu\b", "Faceu", False),
        (r"\bvsco\b", "VSCO", False),
    )
)


def classify_software(value: str) -> tuple[str, bool] | None:
    """The (application name, is AI generator) a Software-like string names, else None.

    Camera and phone firmware strings ("HDR+ 1.0", "17.1", "Android …") name no listed
    application and give None.
    """
    text = value.strip()[:500]
    if not text:
        return None
    for pattern, name, ai in _APPS:
        if pattern.search(text):
            return name, ai
    return None


# ---------------------------------------------------------------------------------------
# Small helpers


def _clip(text: str, limit: int = VALUE_MAX) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decode_text(raw: bytes) -> str:
    raw = raw.rstrip(b"\x00")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _json_loads(text: str) -> Any:
    """json.loads, or None when the text is not (bounded, valid) JSON."""
    if len(text) > JSON_MAX:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _bounded_inflate(data: bytes, limit: int = TEXT_CHUNK_MAX) -> bytes | None:
    try:
        return zlib.decompressobj().decompress(data, limit)
    except zlib.error:
        return None


def _sniff(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "image/avif"
        return "image/heic"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return ""


# ---------------------------------------------------------------------------------------
# Container walks: collect XMP packets, PNG text chunks and raw EXIF blocks.


@dataclass
class _Blocks:
    xmp: list[str]
    texts: list[tuple[str, str]]  # (keyword, text) of PNG text chunks
    exif: list[bytes]


def _walk_jpeg(data: bytes, blocks: _Blocks) -> None:
    extended: dict[bytes, dict[int, bytes]] = {}
    pos, n = 2, len(data)
    for _ in range(JPEG_SEGMENTS_MAX):
        if pos + 4 > n or data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: metadata is before
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            break
        payload = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1:
            if payload.startswith(b"Exif\x00"):
                blocks.exif.append(payload[:EXIF_MAX])
            elif payload.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
                blocks.xmp.append(_decode_text(payload[29:XMP_PACKET_MAX]))
            elif payload.startswith(b"http://ns.adobe.com/xmp/extension/\x00"):
                body = payload[35:]
                if len(body) > 40:
                    guid = body[:32]
                    (offset,) = struct.unpack(">I", body[36:40])
                    parts = extended.setdefault(guid, {})
                    if sum(len(p) for p in parts.values()) < XMP_PACKET_MAX:
                        parts[offset] = body[40:]
        pos += 2 + length
    for parts in extended.values():
        joined = b"".join(parts[k] for k in sorted(parts))[:XMP_PACKET_MAX]
        blocks.xmp.append(_decode_text(joined))


def _png_text(ctype: bytes, body: bytes) -> tuple[str, str] | None:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep or not keyword:
        return None
    key = keyword[:79].decode("latin-1")
    # tEXt/zTXt are Latin-1 by the spec, but generators often write UTF-8 there.
    if ctype == b"tEXt":
        return key, _decode_text(rest[:TEXT_CHUNK_MAX])
    if ctype == b"zTXt":
        inflated = _bounded_inflate(rest[1:])
        return None if inflated is None else (key, _decode_text(inflated))
    # iTXt: compression flag, method, language\0, translated keyword\0, text
    if len(rest) < 2:
        return None
    flag = rest[0]
    parts = rest[2:].split(b"\x00", 2)
    if len(parts) < 3:
        return None
    raw = parts[2]
    if flag:
        inflated = _bounded_inflate(raw)
        if inflated is None:
            return None
        raw = inflated
    return key, raw[:TEXT_CHUNK_MAX].decode("utf-8", errors="replace")


def _walk_png(data: bytes, blocks: _Blocks) -> None:
    pos, n = 8, len(data)
    for _ in range(PNG_CHUNKS_MAX):
        if pos + 8 > n:
            break
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        start, end = pos + 8, pos + 8 + length
        if ctype in (b"tEXt", b"zTXt", b"iTXt") and len(blocks.texts) < TEXT_CHUNKS_MAX:
            found = _png_text(ctype, data[start : min(end, n)])
            if found is not None:
                key, text = found
                if key == "XML:com.adobe.xmp":
                    blocks.xmp.append(text[:XMP_PACKET_MAX])
                else:
                    blocks.texts.append(found)
        elif ctype == b"eXIf":
            blocks.exif.append(data[start : min(end, n, start + EXIF_MAX)])
        elif ctype == b"IEND":
            break
        pos = end + 4  # skip the CRC


def _walk_webp(data: bytes, blocks: _Blocks) -> None:
    pos, n = 12, len(data)
    for _ in range(WEBP_CHUNKS_MAX):
        if pos + 8 > n:
            break
        fourcc, length = struct.unpack("<4sI", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + min(length, XMP_PACKET_MAX)]
        if fourcc == b"EXIF":
            blocks.exif.append(body[:EXIF_MAX])
        elif fourcc == b"XMP ":
            blocks.xmp.append(_decode_text(body))
        pos += 8 + length + (length & 1)


_XMP_START = re.compile(rb"<x:x[am]pmeta\b")
_XMP_END = re.compile(rb"</x:x[am]pmeta\s*>")


def _scan_xmp(data: bytes) -> Iterator[str]:
    """Uncompressed XMP packets anywhere in the bytes (TIFF, HEIF, GIF, odd writers)."""
    pos, found = 0, 0
    while found < XMP_PACKETS_MAX:
        start = data.find(b"<x:x", pos)  # memchr-fast pre-filter, then the exact match
        if start < 0:
            return
        if not _XMP_START.match(data, start):
            pos = start + 4
            continue
        end_match = _XMP_END.search(data, start, start + XMP_PACKET_MAX)
        end = end_match.end() if end_match else min(len(data), start + 64 * 1024)
        yield _decode_text(data[start:end])
        found += 1
        pos = end


def _collect(data: bytes, mime: str) -> _Blocks:
    blocks = _Blocks(xmp=[], texts=[], exif=[])
    walkers = {"image/jpeg": _walk_jpeg, "image/png": _walk_png, "image/webp": _walk_webp}
    walker = walkers.get(mime)
    if walker is not None:
        try:
            walker(data, blocks)
        except Exception:  # a malformed container: keep what was collected
            logger.debug("provenance: container walk failed", exc_info=True)
    if not blocks.xmp:
        # No packet where the container keeps it (or a format we do not walk): look for
        # an uncompressed packet anywhere. Not done otherwise: in a JPEG, an extended XMP
        # packet is split by segment headers and the scan would read it garbled.
        try:
            blocks.xmp.extend(_scan_xmp(data))
        except Exception:
            logger.debug("provenance: XMP scan failed", exc_info=True)
    # De-duplicate packets (the same packet is found by the walk and the scan).
    seen: set[str] = set()
    unique: list[str] = []
    for packet in blocks.xmp:
        key = packet.strip()
        if key and key not in seen and len(unique) < XMP_PACKETS_MAX:
            seen.add(key)
            unique.append(packet)
    blocks.xmp = unique
    return blocks


# ---------------------------------------------------------------------------------------
# TC260 AIGC (GB 45438-2025) implicit label


_AIGC_PAIR = re.compile(
    r'"(Label|ContentProducer|ProduceID|ReservedCode1|ContentPropagator|PropagateID|'
    r'ReservedCode2)"\s*:\s*(?:"([^"]*)"?|([^,}\s"]+))'
)


def _aigc_details(obj: dict[str, Any]) -> dict[str, Any] | None:
    """Normalise an AIGC JSON object; None when it has none of the AIGC keys."""
    for wrapper in ("AIGC", "TC260:AIGC", "aigc"):
        inner = obj.get(wrapper)
        if isinstance(inner, str):
            inner = _json_loads(inner)
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
            details[canonical] = _clip(str(value), DETAIL_MAX)
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
        parsed = _json_loads(candidate)
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
            pairs.setdefault(canonical, _clip(value or "", DETAIL_MAX))
        if not pairs.keys() & {"Label", "ContentProducer", "ProduceID"}:
            return None
        details = {**pairs, "parse_error": True}
    label = details.get("Label")
    if label is not None:
        details["label_meaning"] = TC260_LABEL_MEANINGS.get(str(label).strip(), "unknown")
    return details


# ---------------------------------------------------------------------------------------
# XMP fields (regular expressions over the packet text; no XML parser)

_NAME = r"(?:([\w.-]+):)?"
_ATTR_VALUE = r"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')"


XMP_FIELDS_MAX = 32  # occurrences of one field read per packet


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


_IPTC_VALUE = re.compile(r"(?:[a-z]+://[\w.-]+(?:/[\w.-]+)*/)?([A-Za-z]+)/?")


def _iptc_term(value: str) -> str:
    """The IPTC digital-source-type term of a URI (or bare term); "" if not one."""
    if len(value) > 500:
        return ""
    match = _IPTC_VALUE.fullmatch(value.strip())
    return match.group(1) if match else ""


def _labels_from_xmp(packet: str) -> Iterator[ProvenanceLabel]:
    for name, value in _xmp_fields(packet, "DigitalSourceType"):
        term = _iptc_term(value)
        if term in IPTC_AI_TERMS:
            yield ProvenanceLabel(
                code="iptc_ai",
                source="XMP",
                field=name,
                value=_clip(value),
                ai_generated=True,
                details={"digital_source_type": term, "uri": _clip(value, DETAIL_MAX)},
            )
    for name, value in _xmp_fields(packet, "AIGC"):
        details = parse_aigc(value)
        if details is not None:
            yield ProvenanceLabel(
                code="tc260_aigc",
                source="XMP",
                field=name,
                value=_clip(value),
                ai_generated=True,
                details=details,
            )
    for name, value in _xmp_fields(packet, "CreatorTool"):
        app = classify_software(value)
        if app is not None:
            yield _software_label("XMP", name, value, app)


def _software_label(source: str, field: str, value: str, app: tuple[str, bool]) -> ProvenanceLabel:
    name, ai = app
    return ProvenanceLabel(
        code="editing_software",
        source=source,
        field=field,
        value=_clip(value),
        ai_generated=ai,
        details={"application": name, "kind": "ai_generator" if ai else "editor"},
    )


# ---------------------------------------------------------------------------------------
# Stable Diffusion WebUI parameters and ComfyUI graphs

_SD_SETTINGS = re.compile(r"(?:^|\n)(Steps:\s*\d+.*)$", re.DOTALL)
_SD_KEEP = (
    "Steps",
    "Sampler",
    "CFG scale",
    "Seed",
    "Size",
    "Model",
    "Model hash",
    "Denoising strength",
)
_SD_PAIR = re.compile(r"\s*([\w ./-]+?):\s*(\"(?:[^\"\\]|\\.)*\"|[^,]*)(?:,|$)")


def looks_like_sd_parameters(text: str) -> bool:
    """True when the text has the ``Steps: N, Sampler: …`` line of SD WebUI parameters."""
    return bool(re.search(r"\bSteps:\s*\d+", text)) and "Sampler:" in text


def parse_sd_parameters(text: str) -> dict[str, Any]:
    """Prompt, negative prompt and main settings of an A1111/Forge ``parameters`` text."""
    text = text[:JSON_MAX]
    details: dict[str, Any] = {}
    settings_match = _SD_SETTINGS.search(text)
    head = text[: settings_match.start()] if settings_match else text
    prompt, _sep, negative = head.partition("Negative prompt:")
    if prompt.strip():
        details["prompt"] = _clip(prompt, DETAIL_MAX)
    if negative.strip():
        details["negative_prompt"] = _clip(negative, DETAIL_MAX)
    if settings_match:
        line = settings_match.group(1).split("\n", 1)[0][:2000]
        for match in _SD_PAIR.finditer(line):
            key, value = match.group(1).strip(), match.group(2).strip().strip('"')
            if key in _SD_KEEP and key not in details:
                details[key] = _clip(value, DETAIL_MAX)
    return details


def _comfy_details(text: str) -> dict[str, Any] | None:
    parsed = _json_loads(text)
    if isinstance(parsed, dict):
        nodes: list[Any]
        if isinstance(parsed.get("nodes"), list):  # workflow (UI graph)
            nodes = parsed["nodes"]
            types = [n.get("type") for n in nodes if isinstance(n, dict)]
        else:  # prompt (API graph): {"3": {"class_type": ..., "inputs": {...}}}
            nodes = [v for v in parsed.values() if isinstance(v, dict) and "class_type" in v]
            types = [n.get("class_type") for n in nodes]
        if not nodes:
            return None
        names = sorted({t for t in types if isinstance(t, str)})
        return {"node_count": len(nodes), "node_types": [_clip(t, 80) for t in names[:30]]}
    stripped = text.lstrip()
    if stripped.startswith("{") and ("class_type" in text or '"nodes"' in text):
        return {"parse_error": True}
    return None


# ---------------------------------------------------------------------------------------
# EXIF


def _user_comment_text(raw: Any) -> str:
    """Decode an EXIF UserComment (8-byte charset prefix + payload)."""
    if isinstance(raw, str):
        return raw.strip("\x00").strip()
    if not isinstance(raw, bytes | bytearray):
        return ""
    raw = bytes(raw[:JSON_MAX])
    prefix, body = raw[:8], raw[8:]
    if prefix == b"UNICODE\x00":
        if body.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = body.decode("utf-16", errors="replace")
        else:
            # Byte order is not recorded; guess from where the zero bytes of ASCII are.
            even_zeros = body[0::2].count(0)
            odd_zeros = body[1::2].count(0)
            codec = "utf-16-be" if even_zeros >= odd_zeros else "utf-16-le"
            text = body[: len(body) - len(body) % 2].decode(codec, errors="replace")
    elif prefix == b"JIS\x00\x00\x00\x00\x00":
        text = body.decode("shift_jis", errors="replace")
    elif prefix in (b"ASCII\x00\x00\x00", b"\x00" * 8):
        text = body.decode("utf-8", errors="replace")
    else:
        text = raw.decode("utf-8", errors="replace")
    return text.strip("\x00").strip()


def _undo_latin1(text: str) -> str:
    """Pillow reads EXIF ASCII as Latin-1; apps (美图秀秀, 醒图 …) write UTF-8 there."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _register_heif() -> None:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except Exception:
        logger.debug("provenance: pillow-heif unavailable", exc_info=True)


def _exif_values(blocks: _Blocks, data: bytes, mime: str) -> Iterator[tuple[Any, Any]]:
    """(Software, UserComment) of each EXIF block, via Pillow's EXIF parser."""
    exifs: list[Image.Exif] = []
    for raw in blocks.exif[:4]:
        exif = Image.Exif()
        try:
            with warnings.catch_warnings():  # "Corrupt EXIF data" and the like
                warnings.simplefilter("ignore")
                exif.load(raw)
        except Exception:
            logger.debug("provenance: unreadable EXIF block", exc_info=True)
            continue
        exifs.append(exif)
    if not blocks.exif and mime not in ("image/jpeg", "image/png", "image/webp", ""):
        # TIFF, HEIF, GIF …: Pillow reads the header only, never the pixels.
        if mime in ("image/heic", "image/avif"):
            _register_heif()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(data)) as image:
                    exifs.append(image.getexif())
        except Exception:
            logger.debug("provenance: Pillow could not open the file", exc_info=True)
    for exif in exifs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                software = exif.get(0x0131)
                comment = exif.get_ifd(0x8769).get(0x9286)
        except Exception:
            logger.debug("provenance: unreadable EXIF IFD", exc_info=True)
            continue
        yield software, comment


def _labels_from_exif(blocks: _Blocks, data: bytes, mime: str) -> Iterator[ProvenanceLabel]:
    for software, comment in _exif_values(blocks, data, mime):
        if isinstance(software, bytes):
            software = _decode_text(software)
        if isinstance(software, str):
            software = _undo_latin1(software)
            app = classify_software(software)
            if app is not None:
                yield _software_label("EXIF Software", "Software", software, app)
        text = _user_comment_text(comment)
        if not text:
            continue
        aigc = parse_aigc(text) if "label" in text.lower() or "aigc" in text.lower() else None
        if aigc is not None:
            yield ProvenanceLabel(
                code="tc260_aigc",
                source="EXIF UserComment",
                field="UserComment",
                value=_clip(text),
                ai_generated=True,
                details=aigc,
            )
        elif looks_like_sd_parameters(text):
            yield ProvenanceLabel(
                code="sd_parameters",
                source="EXIF UserComment",
                field="UserComment",
                value=_clip(text),
                ai_generated=True,
                details=parse_sd_parameters(text),
            )


# ---------------------------------------------------------------------------------------
# PNG text chunks


def _labels_from_png_text(texts: list[tuple[str, str]]) -> Iterator[ProvenanceLabel]:
    for keyword, text in texts:
        key = keyword.strip()
        lower = key.lower()
        if lower in ("aigc", "tc260:aigc"):
            details = parse_aigc(text)
            if details is None:
                if not text.strip():
                    continue
                details = {"parse_error": True}
            yield ProvenanceLabel(
                code="tc260_aigc",
                source="PNG text chunk",
                field=key,
                value=_clip(text),
                ai_generated=True,
                details=details,
            )
        elif lower == "parameters" and text.strip():
            parsed = _json_loads(text)
            details = parse_sd_parameters(text) if not isinstance(parsed, dict) else {}
            if isinstance(parsed, dict):  # Fooocus and others write JSON parameters
                for k in ("prompt", "negative_prompt", "steps", "sampler", "seed", "base_model"):
                    if isinstance(parsed.get(k), str | int | float):
                        details[k] = _clip(str(parsed[k]), DETAIL_MAX)
            yield ProvenanceLabel(
                code="sd_parameters",
                source="PNG text chunk",
                field=key,
                value=_clip(text),
                ai_generated=True,
                details=details,
            )
        elif lower in ("prompt", "workflow"):
            comfy = _comfy_details(text)
            if comfy is not None:
                yield ProvenanceLabel(
                    code="comfyui_workflow",
                    source="PNG text chunk",
                    field=key,
                    value=_clip(text),
                    ai_generated=True,
                    details=comfy,
                )
        elif lower in ("software", "source"):
            app = classify_software(text)
            if app is not None:
                yield _software_label("PNG text chunk", key, text, app)


# ---------------------------------------------------------------------------------------
# C2PA

_C2PA_SETTINGS = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
}


def _walk_json(node: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every dict entry in a JSON tree (bounded depth)."""
    if depth > 24:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key), value
            yield from _walk_json(value, child, depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node[:1000]):
            yield from _walk_json(value, f"{path}[{index}]", depth + 1)


def labels_from_c2pa_store(store: dict[str, Any]) -> list[ProvenanceLabel]:
    """AI labels in a C2PA manifest store, as c2pa-python's ``Reader.json()`` gives it.

    Every ``digitalSourceType`` (any namespace prefix, any manifest in the store,
    actions or IPTC assertions) whose IPTC term is an AI one gives one label.
    """
    if not isinstance(store, dict):
        return []
    manifests = store.get("manifests")
    if not isinstance(manifests, dict):
        return []
    active = store.get("active_manifest")
    state = store.get("validation_state")
    statuses = store.get("validation_status")
    failures: list[str] = [
        s["code"]
        for s in (statuses if isinstance(statuses, list) else [])
        if isinstance(s, dict) and isinstance(s.get("code"), str)
    ]
    labels: list[ProvenanceLabel] = []
    seen: set[tuple[str, str]] = set()
    for manifest_label, manifest in list(manifests.items())[:64]:
        if not isinstance(manifest, dict):
            continue
        generator = _generator_name(manifest)
        signature = manifest.get("signature_info")
        for path, key, value in _walk_json(manifest.get("assertions"), "assertions"):
            if key.rsplit(":", 1)[-1].lower() != "digitalsourcetype" or not isinstance(value, str):
                continue
            term = _iptc_term(value)
            if term not in IPTC_AI_TERMS or (manifest_label, term) in seen:
                continue
            seen.add((manifest_label, term))
            details: dict[str, Any] = {
                "digital_source_type": term,
                "uri": _clip(value, DETAIL_MAX),
                "manifest": _clip(str(manifest_label), DETAIL_MAX),
                "active_manifest": manifest_label == active,
                "assertion_path": _clip(path, DETAIL_MAX),
                "validation_state": state if isinstance(state, str) else None,
                "validation_failures": [_clip(c, 120) for c in failures[:10]],
            }
            if generator:
                details["claim_generator"] = generator
            agent = _software_agent(manifest.get("assertions"), path)
            if agent:
                details["software_agent"] = agent
            if isinstance(signature, dict):
                for field in ("issuer", "common_name", "time"):
                    if isinstance(signature.get(field), str):
                        details[f"signer_{field}"] = _clip(signature[field], DETAIL_MAX)
            labels.append(
                ProvenanceLabel(
                    code="c2pa_ai",
                    source="C2PA manifest",
                    field="digitalSourceType",
                    value=_clip(value),
                    ai_generated=True,
                    details=details,
                )
            )
    return labels


def _generator_name(manifest: dict[str, Any]) -> str:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name = info[0].get("name")
        version = info[0].get("version")
        if isinstance(name, str):
            return _clip(f"{name} {version}" if isinstance(version, str) else name, DETAIL_MAX)
    generator = manifest.get("claim_generator")
    return _clip(generator, DETAIL_MAX) if isinstance(generator, str) else ""


def _software_agent(assertions: Any, path: str) -> str:
    """The softwareAgent beside a digitalSourceType at ``path`` (an action), if any."""
    parent_path = path.rsplit(".", 1)[0]
    for candidate, key, value in _walk_json(assertions, "assertions"):
        if key == "softwareAgent" and candidate.rsplit(".", 1)[0] == parent_path:
            if isinstance(value, dict) and isinstance(value.get("name"), str):
                return _clip(value["name"], DETAIL_MAX)
            if isinstance(value, str):
                return _clip(value, DETAIL_MAX)
    return ""


def _read_c2pa_store(data: bytes, mime: str) -> dict[str, Any] | None:
    """The manifest store JSON of an embedded C2PA manifest, or None."""
    try:
        import c2pa
    except Exception:  # not installed, or its native library cannot load
        logger.debug("provenance: c2pa-python unavailable", exc_info=True)
        return None
    try:
        context = c2pa.Context(c2pa.Settings.from_dict(_C2PA_SETTINGS))
        with context:
            reader = c2pa.Reader.try_create(mime or None, io.BytesIO(data), context=context)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
    except Exception:
        logger.debug("provenance: C2PA manifest unreadable", exc_info=True)
        return None
    return store if isinstance(store, dict) else None


def _labels_from_c2pa(data: bytes, mime: str) -> list[ProvenanceLabel]:
    # Embedded manifests live in a JUMBF box labelled "c2pa": skip the native reader
    # (and its hashing of the whole file) when the bytes cannot hold one.
    if b"c2pa" not in data:
        return []
    store = _read_c2pa_store(data, mime)
    return labels_from_c2pa_store(store) if store is not None else []


# ---------------------------------------------------------------------------------------


def read_provenance(data: bytes) -> list[ProvenanceLabel]:
    """Every provenance label found in an image file's bytes; ``[]`` when none.

    Reads C2PA, XMP, PNG text chunks and EXIF without decoding pixels. Never raises on
    malformed input: whatever cannot be parsed is skipped (and logged at debug level).
    Labels are de-duplicated on (code, source, field, value) and keep a stable order:
    C2PA, XMP, PNG text chunks, EXIF.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        return []
    if not isinstance(data, bytes):
        data = bytes(data)
    if not data:
        return []
    labels: list[ProvenanceLabel] = []
    mime = _sniff(data)
    try:
        labels.extend(_labels_from_c2pa(data, mime))
    except Exception:
        logger.debug("provenance: C2PA reading failed", exc_info=True)
    try:
        blocks = _collect(data, mime)
    except Exception:
        logger.debug("provenance: metadata collection failed", exc_info=True)
        blocks = _Blocks(xmp=[], texts=[], exif=[])
    for packet in blocks.xmp:
        try:
            labels.extend(_labels_from_xmp(packet))
        except Exception:
            logger.debug("provenance: XMP packet unreadable", exc_info=True)
    try:
        labels.extend(_labels_from_png_text(blocks.texts))
    except Exception:
        logger.debug("provenance: PNG text unreadable", exc_info=True)
    try:
        labels.extend(_labels_from_exif(blocks, data, mime))
    except Exception:
        logger.debug("provenance: EXIF unreadable", exc_info=True)
    unique: list[ProvenanceLabel] = []
    seen: set[tuple[str, str, str, str]] = set()
    for label in labels:
        key = (label.code, label.source, label.field, label.value)
        if key not in seen:
            seen.add(key)
            unique.append(label)
    return unique
