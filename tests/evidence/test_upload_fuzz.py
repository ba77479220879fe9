"""Upload fuzzing: well over a thousand mutated JPEG, PNG and MP4 files and random bytes
go through the upload validators and, when accepted, the engines the workers run
(decode + fingerprints, keyframes, provenance). The only outcomes allowed are "accepted"
or a validation error: no other exception, no hang (each file has a time limit).
Hand-made hostile files — decompression bombs, many-frame GIFs, polyglots, EXIF and XMP
bombs, truncated streams — are checked explicitly."""

from __future__ import annotations

import io
import signal
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from evidence.uploads import validate_photo, validate_video
from forensics.errors import MediaRejected
from forensics.fingerprints import fingerprint_image, load_analysis_image, thumbnail_jpeg
from forensics.keyframes import extract_keyframes
from forensics.provenance import read_provenance
from tests.evidence.test_services import mp4

SECONDS_PER_FILE = 10


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging) when one file takes longer than ``seconds``."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _image(fmt: str, size: tuple[int, int] = (96, 64), **save: Any) -> bytes:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt, **save)
    return out.getvalue()


SEEDS = {
    "jpeg": _image("JPEG", quality=80),
    "progressive": _image("JPEG", progressive=True),
    "png": _image("PNG"),
    "webp": _image("WEBP"),
}


def photo_pipeline(data: bytes) -> str:
    """What an upload meets: validation, then (for accepted files) the worker's engines."""
    with time_limit(SECONDS_PER_FILE):
        try:
            validate_photo(ContentFile(data), size=len(data))
        except ValidationError:
            return "rejected"
        read_provenance(data)  # never raises, by contract
        try:
            image = load_analysis_image(io.BytesIO(data), max_pixels=60_000_000)
            fingerprint_image(image)
            thumbnail_jpeg(image)
        except MediaRejected:
            return "failed"  # the worker marks the row failed with the reason
        return "accepted"


def video_pipeline(data: bytes) -> str:
    with time_limit(SECONDS_PER_FILE):
        try:
            validate_video(ContentFile(data), size=len(data))
        except ValidationError:
            return "rejected"
        try:
            for _ in extract_keyframes(io.BytesIO(data), per_minute=20, min_spacing_seconds=1.0):
                pass
        except MediaRejected:
            return "failed"
        return "accepted"


@st.composite
def mutated(draw: Callable[..., Any], seeds: list[bytes]) -> bytes:
    """A seed file with a few byte flips, a truncation, an insertion or a spliced chunk —
    or plain random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return bytes(draw(st.binary(min_size=0, max_size=2048)))
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "splice", "zero"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "splice":
            end = min(len(data), at + draw(st.integers(1, 256)))
            data[at:at] = data[at:end]
        else:
            end = min(len(data), at + draw(st.integers(1, 64)))
            data[at:end] = bytes(end - at)
    return bytes(data)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )


@pytest.mark.django_db
@fuzz(900)
@given(mutated(list(SEEDS.values())))
def test_mutated_photos_are_accepted_or_refused_never_crash(data):
    assert photo_pipeline(data) in {"accepted", "rejected", "failed"}


VIDEO_SEEDS = [mp4(seconds=1, fps=5)]


@pytest.mark.django_db
@fuzz(300)
@given(mutated(VIDEO_SEEDS))
def test_mutated_videos_are_accepted_or_refused_never_crash(data):
    assert video_pipeline(data) in {"accepted", "rejected", "failed"}


# --- Hand-made hostile files ---------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A PNG header claiming 20000×20000 pixels, with a tiny compressed body."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 65536, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def many_frame_gif(frames: int = 2000) -> bytes:
    out = io.BytesIO()
    first = Image.new("P", (4, 4))
    first.save(out, "GIF", save_all=True, append_images=[Image.new("P", (4, 4))] * frames)
    return out.getvalue()


def exif_bomb() -> bytes:
    """A JPEG carrying dozens of maximal APP1 (EXIF) segments."""
    jpeg = SEEDS["jpeg"]
    segment = b"\xff\xe1" + struct.pack(">H", 65535) + b"Exif\x00\x00" + b"\x00" * 65527
    return jpeg[:2] + segment * 40 + jpeg[2:]


def xmp_bomb() -> bytes:
    """A JPEG whose XMP packet is a billion-laughs entity expansion."""
    entities = (
        '<!ENTITY a "'
        + "x" * 50
        + '">'
        + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9))
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE x [{entities}]>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><r>&j;</r></x:xmpmeta>'
    ).encode()
    header = b"http://ns.adobe.com/xap/1.0/\x00"
    body = header + xml
    jpeg = SEEDS["jpeg"]
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


HOSTILE = {
    "png_20000x20000": (png_bomb(), {"rejected"}),
    "gif_2000_frames": (many_frame_gif(), {"rejected"}),
    "jpeg_html_polyglot": (SEEDS["jpeg"] + b"<html><script>alert(1)</script></html>", {"accepted"}),
    "jpeg_zip_polyglot": (SEEDS["jpeg"] + b"PK\x03\x04" + b"\x00" * 100, {"accepted"}),
    "exif_bomb": (exif_bomb(), {"accepted", "rejected", "failed"}),
    "xmp_billion_laughs": (xmp_bomb(), {"accepted", "rejected", "failed"}),
    "truncated_jpeg": (SEEDS["jpeg"][: len(SEEDS["jpeg"]) // 2], {"rejected", "failed"}),
    "truncated_png": (SEEDS["png"][:-30], {"rejected", "failed"}),
    "empty": (b"", {"rejected"}),
    "html_named_jpg": (b"<!DOCTYPE html><html></html>", {"rejected"}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_photos(name):
    data, allowed = HOSTILE[name]
    assert photo_pipeline(data) in allowed


@pytest.mark.django_db
def test_truncated_and_foreign_videos_are_refused():
    video = VIDEO_SEEDS[0]
    assert video_pipeline(video[: len(video) // 3]) in {"rejected", "failed"}
    assert video_pipeline(SEEDS["jpeg"]) == "rejected"
    assert video_pipeline(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000) in {"rejected", "failed"}
