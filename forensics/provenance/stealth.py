"""Stealth PNG info: generation metadata hidden in the least significant bits of a PNG's
pixels, as the SD WebUI "stealth_pnginfo" extension and NovelAI write it.

The bits run down each column, column after column (x outer, y inner), in the alpha
channel (signatures ``stealth_pnginfo``, ``stealth_pngcomp``) or in R, G, B in turn
(``stealth_rgbinfo``, ``stealth_rgbcomp``): a 15-byte signature, the payload's length in
bits (32 bits, big-endian), then the payload, gzip-compressed in the ``comp`` variants.

Bounded: a PNG past ``STEALTH_PIXELS_MAX`` pixels (the photo cap) is not read; of the
others (8-bit RGB/RGBA) only the first rows that hold the signature are inflated and
unfiltered, at most ``HEAD_BYTES_MAX``; the whole image is decoded only when a signature is
there; the payload is cut at ``PAYLOAD_MAX`` bytes and inflates to at most ``TEXT_MAX``.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from forensics.provenance.common import DETAIL_MAX, ProvenanceLabel, clip, decode_text
from forensics.provenance.generators import hidden_payload

logger = logging.getLogger(__name__)

SIGNATURES = {
    b"stealth_pnginfo": ("alpha", False),
    b"stealth_pngcomp": ("alpha", True),
    b"stealth_rgbinfo": ("rgb", False),
    b"stealth_rgbcomp": ("rgb", True),
}
SIGNATURE_BITS = 15 * 8
HEADER_BITS = SIGNATURE_BITS + 32  # the signature, then the payload's length in bits
PAYLOAD_MAX = 256 * 1024  # bytes of hidden payload read
TEXT_MAX = 1024 * 1024  # bytes an (ungzipped) payload is read to
STEALTH_PIXELS_MAX = 60_000_000  # pixels of a PNG read at all (the photo cap)
HEAD_BYTES_MAX = 32 * 1024 * 1024  # bytes the signature's rows inflate to (~50,000 px wide)
PNG_CHUNKS_MAX = 200_000


@dataclass(frozen=True)
class _Png:
    """What the stealth reader needs of a PNG: its size, channels and compressed rows."""

    width: int
    height: int
    channels: int  # 3 (RGB) or 4 (RGBA), 8 bits each
    idat: list[memoryview]  # views into the file: nothing is copied before it is needed


def _png(data: bytes) -> _Png | None:
    """The header and IDAT chunks of a non-interlaced 8-bit RGB/RGBA PNG, else None."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour, _comp, _filter, interlace = struct.unpack(">IIBBBBB", data[16:29])
    # The extension saves 8-bit RGB(A), never interlaced; other layouts hold no stealth info.
    if depth != 8 or colour not in (2, 6) or interlace != 0 or not width or not height:
        return None
    channels = 4 if colour == 6 else 3
    # A picture past the photo cap, or so wide that its first rows are a zlib bomb, is not read.
    head_bytes = min(height, HEADER_BITS) * (1 + width * channels)
    if width * height > STEALTH_PIXELS_MAX or head_bytes > HEAD_BYTES_MAX:
        return None
    idat: list[memoryview] = []
    view = memoryview(data)
    pos, n = 8, len(data)
    for _ in range(PNG_CHUNKS_MAX):
        if pos + 8 > n:
            break
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        if ctype == b"IDAT":
            idat.append(view[pos + 8 : pos + 8 + length])
        elif ctype == b"IEND" or (idat and ctype != b"IDAT"):
            break  # IDAT chunks are consecutive
        pos += 12 + length
    return _Png(width, height, channels, idat) if idat else None


def _first_rows(png: _Png, rows: int) -> np.ndarray | None:
    """The first ``rows`` rows of pixels (rows × width × channels), inflating only them."""
    stride = 1 + png.width * png.channels  # filter byte + samples
    need = rows * stride
    inflater = zlib.decompressobj()
    parts: list[bytes] = []
    got = 0
    for view in png.idat:
        chunk: bytes | memoryview = view
        while chunk and got < need:
            piece = inflater.decompress(chunk, need - got)
            parts.append(piece)
            got += len(piece)
            chunk = inflater.unconsumed_tail
            if not piece:
                break
        if got >= need or inflater.eof:
            break
    if got < need:
        return None
    mode = "RGBA" if png.channels == 4 else "RGB"
    # Pillow's PNG decoder undoes the row filters; it is handed just these rows, stored.
    image = Image.frombytes(mode, (png.width, rows), zlib.compress(b"".join(parts), 0), "zip", mode)
    return np.asarray(image)


def _leftmost_columns(data: bytes, columns: int) -> np.ndarray | None:
    """The leftmost ``columns`` columns of the whole image (height × columns × channels);
    None past the pixel cap or when the pixels cannot be decoded."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > STEALTH_PIXELS_MAX or image.mode not in ("RGB", "RGBA"):
                return None
            image.load()
            return np.asarray(image.crop((0, 0, min(columns, image.width), image.height)))
    except Exception:  # a truncated or corrupt image: the signature is still reported
        logger.debug("provenance: stealth payload pixels unreadable", exc_info=True)
        return None


def _bits(pixels: np.ndarray, channel: str, count: int) -> np.ndarray:
    """The first ``count`` least significant bits, down each column then across."""
    planes = pixels[:, :, 3:4] if channel == "alpha" else pixels[:, :, :3]
    per_column = planes.shape[0] * planes.shape[2]
    columns = min(planes.shape[1], math.ceil(count / per_column))
    stream = np.ascontiguousarray(planes[:, :columns, :].transpose(1, 0, 2)).reshape(-1)
    return stream[:count] & 1


def _inflate_gzip(payload: bytes) -> bytes | None:
    try:
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(payload, TEXT_MAX)
    except zlib.error:
        return None


def _payload(
    data: bytes, png: _Png, channel: str, length: int, compressed: bool
) -> tuple[str, dict[str, Any]]:
    """The hidden text (read within the caps) and what is known about how it was read."""
    per_column = png.height * (1 if channel == "alpha" else 3)
    # A length past the pixels, or past the cap, is read as far as both allow.
    bits = min(length, png.width * per_column - HEADER_BITS, PAYLOAD_MAX * 8)
    facts: dict[str, Any] = {"payload_bits": length}
    if bits < length:
        facts["truncated"] = True
    if bits <= 0:
        return "", facts
    pixels = _leftmost_columns(data, math.ceil((HEADER_BITS + bits) / per_column))
    if pixels is None:
        facts["payload_read"] = False
        return "", facts
    stream = _bits(pixels, channel, HEADER_BITS + bits)[HEADER_BITS:]
    payload = np.packbits(stream[: len(stream) - len(stream) % 8]).tobytes()
    raw = _inflate_gzip(payload) if compressed else payload[:TEXT_MAX]
    if raw is None:
        facts["parse_error"] = True
        return "", facts
    return decode_text(raw), facts


def labels_from_stealth(data: bytes) -> Iterator[ProvenanceLabel]:
    """The stealth PNG info label of a PNG's pixels, if its LSBs carry a signature."""
    png = _png(data)
    if png is None:
        return
    pixels = _first_rows(png, min(png.height, HEADER_BITS))
    if pixels is None:
        return
    for channel in ("alpha", "rgb") if png.channels == 4 else ("rgb",):
        if png.width * png.height * (1 if channel == "alpha" else 3) < HEADER_BITS:
            continue
        header = np.packbits(_bits(pixels, channel, HEADER_BITS)).tobytes()
        found = SIGNATURES.get(header[:15])
        if found is None or found[0] != channel or len(header) < 19:
            continue
        signature = header[:15].decode("ascii")
        (length,) = struct.unpack(">I", header[15:19])
        text, facts = _payload(data, png, channel, length, compressed=found[1])
        application, parsed = (
            hidden_payload(text) if text.strip() else ("Stable Diffusion WebUI", {})
        )
        yield ProvenanceLabel(
            code="stealth_pnginfo",
            source="PNG pixels (alpha channel)" if channel == "alpha" else "PNG pixels (RGB)",
            field=signature,
            value=clip(text) if text.strip() else signature,
            ai_generated=True,
            details={
                "application": application,
                "signature": signature,
                "channel": channel,
                **facts,
                **{k: clip(str(v), DETAIL_MAX) for k, v in parsed.items()},
            },
        )
        return


def labels_from_png_pixels(data: bytes, mime: str) -> list[ProvenanceLabel]:
    """The stealth label of a PNG (``[]`` for any other file or a PNG without one)."""
    if mime != "image/png":
        return []
    try:
        return list(labels_from_stealth(data))
    except Exception:
        logger.debug("provenance: stealth PNG info unreadable", exc_info=True)
        return []
