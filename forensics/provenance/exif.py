"""EXIF labels (JPEG APP1, PNG eXIf, WebP EXIF, or whatever Pillow opens lazily):
``UserComment`` carrying AIGC JSON or SD parameters, ``Software`` and ``ProcessingSoftware``
naming an editing or AI application, and Midjourney's job id in ``ImageDescription``.
Camera firmware strings ("Ver.1.0", a phone's build number) are not labels."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from typing import Any

from PIL import Image

from forensics.provenance.aigc import parse_aigc
from forensics.provenance.common import JSON_MAX, ProvenanceLabel, clip, decode_text
from forensics.provenance.containers import Blocks
from forensics.provenance.generators import (
    classify_software,
    generator_label,
    looks_like_sd_parameters,
    midjourney_details,
    parse_sd_parameters,
    software_label,
)

logger = logging.getLogger(__name__)


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


#: The IFD0 tags that name the software that wrote the file, in the order they are read.
_SOFTWARE_TAGS = ((0x0131, "Software"), (0x000B, "ProcessingSoftware"))


def _exif_values(
    blocks: Blocks, data: bytes, mime: str
) -> Iterator[tuple[dict[str, Any], Any, Any]]:
    """({field: software}, ImageDescription, UserComment) of each EXIF block, via Pillow's
    EXIF parser."""
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
                software = {field: exif.get(tag) for tag, field in _SOFTWARE_TAGS}
                description = exif.get(0x010E)
                comment = exif.get_ifd(0x8769).get(0x9286)
        except Exception:
            logger.debug("provenance: unreadable EXIF IFD", exc_info=True)
            continue
        yield software, description, comment


def labels_from_exif(blocks: Blocks, data: bytes, mime: str) -> Iterator[ProvenanceLabel]:
    """The labels of a file's EXIF: Software, ProcessingSoftware, ImageDescription, then
    UserComment, block by block."""
    for softwares, description, comment in _exif_values(blocks, data, mime):
        for field, software in softwares.items():
            if isinstance(software, bytes):
                software = decode_text(software)
            if isinstance(software, str):
                software = _undo_latin1(software)
                app = classify_software(software)
                if app is not None:
                    yield software_label("EXIF Software", field, software, app)
        if isinstance(description, bytes):
            description = decode_text(description)
        if isinstance(description, str):
            midjourney = midjourney_details(description)
            if midjourney is not None:
                yield generator_label(
                    "EXIF ImageDescription",
                    "ImageDescription",
                    description,
                    "Midjourney",
                    midjourney,
                )
        text = _user_comment_text(comment)
        if not text:
            continue
        aigc = parse_aigc(text) if "label" in text.lower() or "aigc" in text.lower() else None
        if aigc is not None:
            yield ProvenanceLabel(
                code="tc260_aigc",
                source="EXIF UserComment",
                field="UserComment",
                value=clip(text),
                ai_generated=True,
                details=aigc,
            )
        elif looks_like_sd_parameters(text):
            yield ProvenanceLabel(
                code="sd_parameters",
                source="EXIF UserComment",
                field="UserComment",
                value=clip(text),
                ai_generated=True,
                details=parse_sd_parameters(text),
            )
