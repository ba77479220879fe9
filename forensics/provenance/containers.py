"""Container walks (JPEG, PNG, WebP, and a raw scan for the rest): collect the XMP
packets, PNG text chunks and raw EXIF blocks the readers look at, without decoding pixels."""

from __future__ import annotations

import logging
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from forensics.provenance.common import decode_text

logger = logging.getLogger(__name__)

XMP_PACKET_MAX = 4 * 1024 * 1024  # bytes of one XMP packet
XMP_PACKETS_MAX = 16
TEXT_CHUNK_MAX = 8 * 1024 * 1024  # bytes of one (decompressed) PNG text chunk
TEXT_CHUNKS_MAX = 256
EXIF_MAX = 1024 * 1024  # bytes of one EXIF block handed to Pillow
PNG_CHUNKS_MAX = 200_000
JPEG_SEGMENTS_MAX = 4096
WEBP_CHUNKS_MAX = 4096


@dataclass
class Blocks:
    """The metadata blocks found in one file."""

    xmp: list[str]
    texts: list[tuple[str, str]]  # (keyword, text) of PNG text chunks
    exif: list[bytes]


def sniff(data: bytes) -> str:
    """The image MIME type the leading bytes announce; "" when none we know."""
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


def _bounded_inflate(data: bytes, limit: int = TEXT_CHUNK_MAX) -> bytes | None:
    try:
        return zlib.decompressobj().decompress(data, limit)
    except zlib.error:
        return None


def _walk_jpeg(data: bytes, blocks: Blocks) -> None:
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
                blocks.xmp.append(decode_text(payload[29:XMP_PACKET_MAX]))
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
        blocks.xmp.append(decode_text(joined))


def _png_text(ctype: bytes, body: bytes) -> tuple[str, str] | None:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep or not keyword:
        return None
    key = keyword[:79].decode("latin-1")
    # tEXt/zTXt are Latin-1 by the spec, but generators often write UTF-8 there.
    if ctype == b"tEXt":
        return key, decode_text(rest[:TEXT_CHUNK_MAX])
    if ctype == b"zTXt":
        inflated = _bounded_inflate(rest[1:])
        return None if inflated is None else (key, decode_text(inflated))
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


def _walk_png(data: bytes, blocks: Blocks) -> None:
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


def _walk_webp(data: bytes, blocks: Blocks) -> None:
    pos, n = 12, len(data)
    for _ in range(WEBP_CHUNKS_MAX):
        if pos + 8 > n:
            break
        fourcc, length = struct.unpack("<4sI", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + min(length, XMP_PACKET_MAX)]
        if fourcc == b"EXIF":
            blocks.exif.append(body[:EXIF_MAX])
        elif fourcc == b"XMP ":
            blocks.xmp.append(decode_text(body))
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
        yield decode_text(data[start:end])
        found += 1
        pos = end


def collect(data: bytes, mime: str) -> Blocks:
    """The XMP packets (unique), PNG text chunks and EXIF blocks of a file's bytes."""
    blocks = Blocks(xmp=[], texts=[], exif=[])
    walkers = {"image/jpeg": _walk_jpeg, "image/png": _walk_png, "image/webp": _walk_webp}
    walker = walkers.get(mime)
    if walker is not None:
        try:
            walker(data, blocks)
        except Exception:  # a malformed container: keep what was collected
            logger.debug("provenance: container walk failed", exc_info=True)
    if not blocks.xmp:
        # Scan only as a fallback: a JPEG's extended XMP is split by segment headers.
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
