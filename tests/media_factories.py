"""Fixture media made in memory: photos in every accepted format, hostile files, videos.

Nothing here copies a real data set: photos are synthetic or come from ``skimage.data``
(bundled with scikit-image), videos are encoded on the fly with PyAV.
"""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pillow_heif
from PIL import Image, TiffImagePlugin, TiffTags
from skimage import data as skdata

pillow_heif.register_heif_opener()

EXIF_ORIENTATION = 0x0112


# --- Images (PIL) ----------------------------------------------------------------------


def astronaut(size: int | None = None) -> Image.Image:
    """The 512x512 RGB astronaut photo from scikit-image, optionally resized."""
    image = Image.fromarray(skdata.astronaut())
    if size is not None and size != image.width:
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    return image


def coffee() -> Image.Image:
    """The 600x400 RGB coffee-cup photo from scikit-image (a different photograph)."""
    return Image.fromarray(skdata.coffee())


def chelsea() -> Image.Image:
    """The 451x300 RGB cat photo from scikit-image (another different photograph)."""
    return Image.fromarray(skdata.chelsea())


def gradient(width: int = 256, height: int = 256) -> Image.Image:
    """A deterministic diagonal RGB gradient."""
    x = np.linspace(0, 255, width, dtype=np.float64)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float64)[:, None]
    r = np.broadcast_to(x, (height, width))
    g = np.broadcast_to(y, (height, width))
    b = (r + g) / 2
    return Image.fromarray(np.dstack([r, g, b]).astype(np.uint8), "RGB")


def checkerboard(size: int = 256, cells: int = 8) -> Image.Image:
    """A black-and-white checkerboard, ``cells`` squares a side, as RGB."""
    cell = size // cells
    yy, xx = np.indices((size, size)) // cell
    board = ((xx + yy) % 2 * 255).astype(np.uint8)
    return Image.fromarray(board, "L").convert("RGB")


def asymmetric(width: int = 320, height: int = 200) -> Image.Image:
    """A non-square image whose content has no symmetry (so any rotation is detectable)."""
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    r = 255 * x * np.ones_like(y)
    g = 255 * (y**2) * np.ones_like(x)
    b = 255 * ((x * 3 + y * 7) % 1.0)
    arr = np.dstack([r, g, b]).astype(np.uint8)
    arr[10:60, 10:40] = (255, 255, 255)  # a white block near the top-left corner
    return Image.fromarray(arr, "RGB")


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth-ish random RGB content (compresses like a photo, not like flat colour)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(1, height // 16), max(1, width // 16), 3), np.uint8)
    return Image.fromarray(small, "RGB").resize((width, height), Image.Resampling.BILINEAR)


def blank(width: int = 200, height: int = 200, colour=(128, 128, 128)) -> Image.Image:
    """A flat single-colour image."""
    return Image.new("RGB", (width, height), colour)


# --- Encoded photo files (bytes) ------------------------------------------------------


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    """``image`` saved by Pillow in ``fmt`` (JPEG, PNG, WEBP, HEIF, GIF, BMP …)."""
    buffer = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 90, orientation: int | None = None) -> bytes:
    """A JPEG, optionally carrying an EXIF Orientation tag (pixels stored as given)."""
    params: dict = {"quality": quality}
    if orientation is not None:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        params["exif"] = exif.tobytes()
    return encode(image, "JPEG", **params)


def png_bytes(image: Image.Image) -> bytes:
    return encode(image, "PNG")


def webp_bytes(image: Image.Image, quality: int = 90) -> bytes:
    return encode(image, "WEBP", quality=quality)


def heic_bytes(image: Image.Image, quality: int = 80) -> bytes:
    """A HEIC file encoded through pillow-heif (x265)."""
    return encode(image, "HEIF", quality=quality)


def avif_bytes(image: Image.Image, quality: int = 80, orientation: int | None = None) -> bytes:
    """An AVIF file encoded by Pillow's own AVIF plugin (libavif/aom in its wheels)."""
    params: dict = {"quality": quality}
    if orientation is not None:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        params["exif"] = exif.tobytes()
    return encode(image, "AVIF", **params)


def gif_bytes(image: Image.Image) -> bytes:
    return encode(image, "GIF")


def tiff_bytes(image: Image.Image) -> bytes:
    return encode(image, "TIFF")


def dng_bytes(image: Image.Image) -> bytes:
    """A TIFF carrying DNGVersion (tag 0xC612) in its first directory: how a DNG says so."""
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[0xC612] = b"\x01\x04\x00\x00"  # DNGVersion 1.4.0.0 (BYTE[4])
    tags.tagtype[0xC612] = TiffTags.BYTE
    return encode(image, "TIFF", tiffinfo=tags)


def bmp_bytes(image: Image.Image) -> bytes:
    return encode(image, "BMP")


def truncated_jpeg(image: Image.Image | None = None, keep: float = 0.5) -> bytes:
    """A real JPEG cut off part-way through its entropy-coded data."""
    whole = jpeg_bytes(image if image is not None else noise(640, 480))
    return whole[: int(len(whole) * keep)]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A few-hundred-byte PNG whose header claims ``width``x``height`` 1-bit pixels.

    The IHDR is valid; the IDAT is a tiny zlib stream (the data is short, so a decoder that
    tried to inflate it all would also fail, but the header alone should be refused).
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


HTML_AS_JPG = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"
PHP_AS_JPG = b"<?php system($_GET['cmd']); ?>\n"
# A PHP payload behind a fake JPEG start-of-image marker (a classic polyglot attempt).
PHP_BEHIND_SOI = b"\xff\xd8\xff\xe0<?php echo 'x'; ?>" + b"\x00" * 32


def random_bytes(n: int = 4096, seed: int = 1) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    """Write ``content`` to ``tmp_path / name`` and return the path."""
    path = tmp_path / name
    path.write_bytes(content)
    return path


# --- Videos ---------------------------------------------------------------------------


def frame_picture(index: int, width: int, height: int) -> np.ndarray:
    """A distinct, deterministic picture for frame ``index`` (a moving bar on a gradient)."""
    x = np.linspace(0, 255, width, dtype=np.float64)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float64)[:, None]
    base = np.dstack(
        [
            np.broadcast_to(x, (height, width)),
            np.broadcast_to(y, (height, width)),
            np.full((height, width), (index * 9) % 256, np.float64),
        ]
    ).astype(np.uint8)
    bar = (index * 4) % max(1, width - 8)
    base[:, bar : bar + 8] = 255
    return base


def encode_video(
    path: Path,
    *,
    codec: str = "libx264",
    container: str | None = None,
    seconds: float = 2.0,
    fps: int = 25,
    gop: int = 25,
    width: int = 160,
    height: int = 120,
    bframes: int | None = 0,
) -> Path:
    """Encode a short synthetic video to ``path`` with a fixed GOP (key frame every ``gop``
    frames, scene-cut detection off so no extra key frames appear)."""
    options: dict[str, str] = {}
    if codec == "libx264":
        options = {"preset": "ultrafast", "sc_threshold": "0", "keyint_min": str(gop)}
        if bframes is not None:
            options["bf"] = str(bframes)
    elif codec == "libvpx-vp9":
        options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    with av.open(str(path), mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=fps, options=options)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        if codec == "libvpx-vp9":
            stream.codec_context.options = {**options, "keyint_min": str(gop)}
        stream.time_base = Fraction(1, fps)
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(frame_picture(i, width, height), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def mp4_h264(tmp_path: Path, name: str = "packing.mp4", **kwargs) -> Path:
    return encode_video(tmp_path / name, codec="libx264", **kwargs)


def mp4_mpeg4(tmp_path: Path, name: str = "packing-mpeg4.mp4", **kwargs) -> Path:
    return encode_video(tmp_path / name, codec="mpeg4", **kwargs)


def webm_vp9(tmp_path: Path, name: str = "packing.webm", **kwargs) -> Path:
    return encode_video(tmp_path / name, codec="libvpx-vp9", container="webm", **kwargs)


def audio_only_mp4(tmp_path: Path, name: str = "voice.m4a", seconds: float = 1.0) -> Path:
    """An MP4 container holding only an AAC audio track (no video)."""
    path = tmp_path / name
    rate = 44_100
    with av.open(str(path), mode="w", format="mp4") as out:
        stream = out.add_stream("aac", rate=rate)
        stream.layout = "mono"
        samples = int(rate * seconds)
        t = np.arange(samples) / rate
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        chunk = 1024
        for start in range(0, samples, chunk):
            piece = tone[start : start + chunk]
            if len(piece) < chunk:
                piece = np.pad(piece, (0, chunk - len(piece)))
            frame = av.AudioFrame.from_ndarray(piece[None, :], format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def truncated_copy(source: Path, dest: Path, keep: float) -> Path:
    """The first ``keep`` fraction of ``source``'s bytes, written to ``dest``."""
    content = source.read_bytes()
    dest.write_bytes(content[: int(len(content) * keep)])
    return dest


def corrupt_copy(source: Path, dest: Path, *, skip_header: int = 64, seed: int = 3) -> Path:
    """``source`` with everything after its first ``skip_header`` bytes overwritten by noise."""
    content = bytearray(source.read_bytes())
    content[skip_header:] = random_bytes(len(content) - skip_header, seed=seed)
    dest.write_bytes(bytes(content))
    return dest
