"""Decode photos and compute their fingerprints. Pure: no Django.

One decode serves every algorithm: JPEGs are opened in Pillow's draft mode, so libjpeg
scales them down in the DCT domain (a 12-megapixel phone photo decodes at 1/4 or 1/8
size), EXIF orientation is applied, and the result is capped at ``ANALYSIS_SIDE``.
Hashes are imagehash pHash and dHash (64 bits); ORB keypoints and descriptors feed the
geometric verification of the claim analysis.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from importlib.metadata import version as _dist_version
from typing import IO, Literal

import cv2
import imagehash
import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from forensics.errors import MediaRejected

pillow_heif.register_heif_opener()

# Content allow-list: Pillow format names → (MIME type, file extension).
PHOTO_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "HEIF": ("image/heic", "heic"),
    # Pillow >= 11.3 decodes AVIF itself (libavif in its wheels): recent phones, chat apps.
    "AVIF": ("image/avif", "avif"),
}
ANALYSIS_SIDE = 512
DRAFT_SLACK = 0.9
ORB_FEATURES = 500
# ORB needs room for its 31-pixel patches and some contrast: small images (a 128-pixel
# catalog thumbnail) are upscaled to this long side before detection, and the FAST corner
# threshold is lower than OpenCV's default 20 so smooth products (fruit, plain cartons)
# still get keypoints. Points are always reported in analysis-image pixels.
ORB_MIN_SIDE = 384
ORB_FAST_THRESHOLD = 7

# Cameras and encoders write 1-3 scans (baseline) or about 10 (progressive); a JPEG with
# thousands of tiny scans makes libjpeg walk every block once per scan (a "scan bomb":
# 2 MB that take minutes to decode), so more than this is refused before decoding.
MAX_JPEG_SCANS = 32
#: A photo's shorter side at least, and its sides at most this ratio: a 1×1 or 1×20000
#: "image" has nothing to compare (and breaks the geometry); a long phone screenshot fits.
MIN_PHOTO_SIDE = 16
MAX_ASPECT = 30
# After a scan's header, its entropy-coded data runs to the next marker that is not a
# stuffed 0xFF00, a restart marker RSTn, or a fill byte.
_MARKER_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")

# Bump an algorithm's version whenever its output for the same image would change.
ALGORITHM_VERSIONS: dict[str, int] = {"phash": 2, "dhash": 2, "orb": 3}


@dataclass(frozen=True)
class PhotoInfo:
    """What the content of a photo file says it is (sizes after EXIF orientation)."""

    format: str
    mime: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class Fingerprint:
    """One algorithm's output for one image."""

    algorithm: str
    version: int
    value: bytes
    bits: int

    @property
    def hex(self) -> str:
        """Hex text of ``value`` (what imagehash prints for the 64-bit hashes)."""
        return self.value.hex()


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose output a fingerprint depends on."""
    names = ["pillow", "imagehash", "numpy", "opencv-python-headless", "pillow-heif"]
    found = {}
    for name in names:
        try:
            found[name] = _dist_version(name)
        except Exception:  # pragma: no cover - a renamed distribution
            found[name] = "unknown"
    return found


def gettext_noop(message: str) -> str:
    """Mark an engine text for translation (no Django here; evidence.uploads translates)."""
    return message


#: Formats refused by name (sniffed from the bytes: a renamed file is still named right).
REFUSED_GIF = gettext_noop(
    "GIF images are not accepted: send a JPEG, PNG, WebP, HEIC or AVIF photo."
)
REFUSED_TIFF = gettext_noop(
    "TIFF images are not accepted: send a JPEG, PNG, WebP, HEIC or AVIF photo."
)
REFUSED_DNG = gettext_noop(
    "DNG camera raw files are not accepted: send a JPEG, PNG, WebP, HEIC or AVIF photo."
)
NOT_A_PHOTO = gettext_noop(
    "This file is not a JPEG, PNG, WebP, HEIC or AVIF photo (its content was checked, "
    "not its name)."
)
#: TIFF byte orders by magic (classic TIFF, then BigTIFF, which no DNG uses).
_TIFF_MAGIC: dict[bytes, Literal["little", "big"]] = {b"II*\x00": "little", b"MM\x00*": "big"}
_BIGTIFF_MAGIC = (b"II+\x00", b"MM\x00+")
#: DNG is a TIFF whose first directory holds the DNGVersion tag.
_DNG_VERSION_TAG = 0xC612
#: Entries of a TIFF's first directory read at most when looking for that tag.
_TIFF_ENTRIES_MAX = 4096


def _refusal(source: IO[bytes]) -> str:
    """Why a file Pillow would not open as an accepted photo is refused, from its bytes."""
    source.seek(0)
    head = source.read(8)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return REFUSED_GIF
    if head[:4] in _BIGTIFF_MAGIC:
        return REFUSED_TIFF
    order = _TIFF_MAGIC.get(head[:4])
    if order is None:
        return NOT_A_PHOTO
    return REFUSED_DNG if _tiff_is_dng(source, head, order) else REFUSED_TIFF


def _tiff_is_dng(source: IO[bytes], head: bytes, order: Literal["little", "big"]) -> bool:
    """Whether a classic TIFF's first directory carries DNGVersion (never raises)."""
    try:
        source.seek(int.from_bytes(head[4:8], order))
        count = min(int.from_bytes(source.read(2), order), _TIFF_ENTRIES_MAX)
        entries = source.read(12 * count)
    except (OSError, ValueError):
        return False
    tags = (int.from_bytes(entries[i : i + 2], order) for i in range(0, len(entries) - 1, 12))
    return _DNG_VERSION_TAG in tags


def _open(source: IO[bytes], *, max_pixels: int) -> Image.Image:
    source.seek(0)
    if not source.read(1):  # said as the upload forms say it, not "not a JPEG"
        raise MediaRejected("The file is empty (0 bytes).")
    source.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source, formats=list(PHOTO_FORMATS))
    except UnidentifiedImageError:
        raise MediaRejected(_refusal(source)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRejected("The image is too large (too many pixels) to be accepted.") from None
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError, MemoryError):
        # The decoders' own words (libavif, libheif, libjpeg) are internals, not for users;
        # AVIF and HEIC decoders raise RuntimeError on damaged input.
        raise MediaRejected("The image could not be read; the file may be damaged.") from None
    if image.format == "JPEG":
        source.seek(0)
        if jpeg_scan_count(source.read(), stop_after=MAX_JPEG_SCANS) > MAX_JPEG_SCANS:
            raise MediaRejected(
                f"The JPEG is split into more than {MAX_JPEG_SCANS} scans, which no camera "
                "writes; it was refused unread."
            )
    width, height = image.size
    if width <= 0 or height <= 0:
        raise MediaRejected("The image has no pixels.")
    if width * height > max_pixels:
        raise MediaRejected(
            f"The image is {width}×{height} pixels; the limit is "
            f"{max_pixels / 1_000_000:g} megapixels."
        )
    if min(width, height) < MIN_PHOTO_SIDE or max(width, height) > MAX_ASPECT * min(width, height):
        raise MediaRejected(
            f"The image is {width}×{height} pixels: too small or too thin to be a photo "
            f"(at least {MIN_PHOTO_SIDE} pixels a side, at most {MAX_ASPECT}:1)."
        )
    return image


def jpeg_scan_count(data: bytes, *, stop_after: int) -> int:
    """How many scans (SOS segments) the first picture of a JPEG holds.

    Walks the marker segments from SOI to EOI, jumping over each scan's entropy-coded
    data; stops counting past ``stop_after``. A malformed stream ends the walk early
    (the decoder then judges the file), so this never raises.
    """
    scans, pos, end = 0, 2, len(data)
    while pos + 4 <= end and scans <= stop_after:
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:  # EOI: the first picture is over (MPO/thumbnails follow)
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        segment_end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker != 0xDA:
            pos = segment_end
            continue
        scans += 1
        next_marker = _MARKER_AFTER_SCAN.search(data, segment_end)
        if next_marker is None:
            break
        pos = next_marker.start()
    return scans


def _decode(image: Image.Image, *, side: int | None) -> Image.Image:
    """Decode fully (so truncation is caught), in draft mode when ``side`` is given.

    libjpeg scales by 1/2, 1/4 or 1/8 while decoding; asking for ``DRAFT_SLACK`` of the
    target lets a 4000-pixel photo decode at 1/8 (500 px) instead of 1/4 plus a costly
    resample, which is what makes hashing a 12-megapixel photo ~5x cheaper.
    """
    if side is not None and image.format == "JPEG":
        w, h = image.size
        scale = side * DRAFT_SLACK / max(w, h)
        if scale < 1:
            image.draft("RGB", (max(1, int(w * scale)), max(1, int(h * scale))))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            oriented = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRejected("The image is too large (too many pixels) to be accepted.") from None
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError, MemoryError):
        raise MediaRejected("The image is damaged or truncated.") from None
    return oriented if oriented is not None else image


def inspect_photo(source: IO[bytes], *, max_pixels: int) -> PhotoInfo:
    """Identify a photo by content and decode it once to prove it is whole.

    Raises ``MediaRejected`` for anything outside the allow-list, over the pixel cap,
    truncated or corrupt.
    """
    image = _open(source, max_pixels=max_pixels)
    fmt = image.format or ""
    if fmt not in PHOTO_FORMATS:  # pragma: no cover - Image.open(formats=) guarantees it
        raise MediaRejected("Unsupported image format.")
    # Draft decoding still reads every entropy-coded byte, so truncation is caught.
    full_w, full_h = image.size
    _decode(image, side=ANALYSIS_SIDE)
    if _orientation_swaps_axes(image):
        full_w, full_h = full_h, full_w
    mime, extension = PHOTO_FORMATS[fmt]
    return PhotoInfo(format=fmt, mime=mime, extension=extension, width=full_w, height=full_h)


def photo_size(source: IO[bytes], *, max_pixels: int) -> tuple[int, int]:
    """A photo's full oriented size (width, height), from its header alone.

    Raises ``MediaRejected`` as ``inspect_photo`` does for what it cannot open.
    """
    image = _open(source, max_pixels=max_pixels)
    width, height = image.size
    return (height, width) if _orientation_swaps_axes(image) else (width, height)


def _orientation_swaps_axes(image: Image.Image) -> bool:
    try:
        return image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except Exception:
        return False


def load_analysis_image(
    source: IO[bytes], *, max_pixels: int, side: int = ANALYSIS_SIDE
) -> Image.Image:
    """Decode a photo for analysis: oriented, RGB, long side at most ``side`` pixels."""
    image = _open(source, max_pixels=max_pixels)
    return fit_for_analysis(_decode(image, side=side), side=side)


def _to_8bit(image: Image.Image) -> Image.Image:
    """Scale 16/32-bit greyscale down to 8 bits (Pillow's convert would clip it)."""
    if not image.mode.startswith("I"):
        return image
    values = np.asarray(image).astype(np.float64)
    peak = 65535.0 if values.max() > 255 else 255.0
    return Image.fromarray(np.clip(values * (255.0 / peak), 0, 255).astype(np.uint8), "L")


def fit_for_analysis(image: Image.Image, *, side: int = ANALYSIS_SIDE) -> Image.Image:
    """An RGB copy of a decoded image with its long side at most ``side`` pixels."""
    fitted = _to_8bit(image).convert("RGB")
    if fitted is image:
        fitted = image.copy()
    if max(fitted.size) > side:
        fitted.thumbnail((side, side), Image.Resampling.LANCZOS)
    return fitted


def _hash_bytes(value: imagehash.ImageHash) -> bytes:
    bits = np.asarray(value.hash, dtype=bool).flatten()
    return np.packbits(bits).tobytes()


def perceptual_hashes(image: Image.Image) -> list[Fingerprint]:
    """pHash and dHash (64-bit each) of a decoded image."""
    return [
        Fingerprint("phash", ALGORITHM_VERSIONS["phash"], _hash_bytes(imagehash.phash(image)), 64),
        Fingerprint("dhash", ALGORITHM_VERSIONS["dhash"], _hash_bytes(imagehash.dhash(image)), 64),
    ]


@dataclass(frozen=True)
class OrbFeatures:
    """ORB keypoints (x, y, size, angle) in analysis-image pixels, and descriptors."""

    points: np.ndarray  # float32, shape (n, 4)
    descriptors: np.ndarray  # uint8, shape (n, 32)
    image_size: tuple[int, int]

    def to_bytes(self) -> bytes:
        """Serialise for storage in a ``Fingerprint`` row."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            points=self.points,
            descriptors=self.descriptors,
            image_size=np.array(self.image_size, dtype=np.int32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> OrbFeatures:
        """Inverse of ``to_bytes``."""
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            size = arrays["image_size"]
            return cls(arrays["points"], arrays["descriptors"], (int(size[0]), int(size[1])))


def orb_features(
    image: Image.Image,
    *,
    n_features: int = ORB_FEATURES,
    min_side: int = ORB_MIN_SIDE,
    fast_threshold: int = ORB_FAST_THRESHOLD,
) -> OrbFeatures:
    """ORB keypoints and binary descriptors of a decoded image.

    Images whose long side is under ``min_side`` are upscaled for detection; the
    returned points are in the given image's pixels either way. Fingerprints use the
    defaults; a caller may detect more finely (a tiny claim's template shortlist).
    """
    gray_image = image.convert("L")
    factor = 1.0
    if 0 < max(image.size) < min_side:
        factor = min_side / max(image.size)
        gray_image = gray_image.resize(
            (max(1, round(image.width * factor)), max(1, round(image.height * factor))),
            Image.Resampling.BICUBIC,
        )
    gray = np.asarray(gray_image)
    orb = cv2.ORB_create(  # type: ignore[attr-defined]
        nfeatures=n_features, fastThreshold=fast_threshold
    )
    keypoints, descriptors = orb.detectAndCompute(gray, None)
    if descriptors is None or not keypoints:
        return OrbFeatures(np.zeros((0, 4), np.float32), np.zeros((0, 32), np.uint8), image.size)
    points = np.array([(k.pt[0], k.pt[1], k.size, k.angle) for k in keypoints], np.float32)
    if factor != 1.0:
        # Pixel centres: upscaled coordinate u maps back to (u + 0.5) / factor - 0.5.
        points[:, :2] = (points[:, :2] + 0.5) / factor - 0.5
        points[:, 2] /= factor
    return OrbFeatures(points, descriptors.astype(np.uint8), image.size)


def fingerprint_image(image: Image.Image) -> list[Fingerprint]:
    """Every fingerprint of a decoded analysis image (see ``load_analysis_image``)."""
    features = orb_features(image)
    return [
        *perceptual_hashes(image),
        Fingerprint("orb", ALGORITHM_VERSIONS["orb"], features.to_bytes(), 0),
    ]


def thumbnail_jpeg(image: Image.Image, *, side: int = 320, quality: int = 85) -> bytes:
    """A JPEG thumbnail of a decoded image, long side at most ``side``."""
    thumb = image.convert("RGB")
    thumb.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()
