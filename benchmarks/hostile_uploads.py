"""Benchmark: hostile uploads through every upload path of a real running app (issue 24).

Starts the app as it runs in production — ``gunicorn config.wsgi`` on 127.0.0.1 (or
``manage.py runserver --noreload`` with ``--server runserver``) — on a temporary
``REFUNDGUARD_VAR_DIR`` with SQLite, ``CELERY_TASK_ALWAYS_EAGER=true`` (every stored file is
fingerprinted / analysed inside its upload request, so processing time counts too),
``DJANGO_DEBUG=true`` and ``REFUNDGUARD_WEBHOOK_ALLOW_PRIVATE=false`` (webhooks to loopback
refused as in production). Seeds one merchant per upload path (owner, product with two
fingerprinted reference photos, API token, open disputes) and, through the ORM (past the
registration check), a webhook endpoint on each merchant that points at a loopback
receiver, so the delivery-time check is probed too.

The loopback receiver (TCP on 127.0.0.1 and ::1, UDP for RTP/RTCP) is what every SSRF
probe points at: HLS / SDP / ffconcat / subfile playlists, an MP4 with a ``dref`` URL,
SVG and XMP external entities, a C2PA remote-manifest reference. It must receive nothing.

Each path gets ``--count`` (default 1000) hostile files: every hand-made one of its kind
(decompression bombs, a progressive-JPEG scan bomb, thin images, HTML/PHP named .jpg,
SVG with an external entity, polyglots, empty files, names with paths, playlists …) and
seeded random mutations (bit flips, byte sets, truncation, splices, header swaps,
length-field corruption, inserts, deletes) of valid JPEG/PNG/WebP/AVIF/HEIC photos made
from scikit-image's sample photos and MP4/MOV/WebM/MKV videos encoded with PyAV:

=====================  ==========================================================
``web_photo``          ``POST /evidence/products/{id}/`` (multipart, Accept: JSON)
``web_video``          ``POST /evidence/videos/`` (multipart, Accept: JSON)
``web_attach``         ``POST /disputes/{id}/evidence/`` (photos and videos alternate)
``api_photo``          ``POST /api/v1/products/{id}/photos/``
``api_video``          ``POST /api/v1/videos/``
``api_chunked``        ``POST /api/v1/uploads/`` + ``PATCH`` pieces + ``POST /api/v1/videos/``
``api_dispute``        ``POST /api/v1/disputes/`` with the file as its photo
``api_claim``          ``POST /api/v1/disputes/{id}/claim-images/``
=====================  ==========================================================

Then it registers webhook endpoints through the Integrations form with URLs that reach
loopback, private or IPv6-embedded addresses (``[::ffff:127.0.0.1]``, NAT64
``[64:ff9b::7f00:1]``, ``localhost``, decimal/hex/octal IPv4 …): each must be refused.

After the server stops it checks, through the ORM: originals under ``MEDIA_ROOT/originals``
without a row and rows without a file, chunked-upload bytes without a row, leftover
temporary upload files, rows left pending/processing, webhook deliveries that succeeded.
It prints per path the files, requests, status histogram, 5xx, connection errors, p95 and
slowest request, and the tracebacks in the server log. Target: no 5xx, no connection
error, slowest request ≤ 10 s, no orphan, 0 connections reaching the receiver, every
webhook probe refused.

Run from the repository root::

    .venv/bin/python benchmarks/hostile_uploads.py                 # 1000 files per path
    .venv/bin/python benchmarks/hostile_uploads.py --count 100 --paths api_video,api_chunked
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/queue.py would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

PASSWORD = "hostile-benchmark-password-1"
PHOTO_PATHS = ("web_photo", "api_photo", "api_dispute", "api_claim")
VIDEO_PATHS = ("web_video", "api_video", "api_chunked")
MIXED_PATHS = ("web_attach",)
ALL_PATHS = (
    "web_photo",
    "web_video",
    "web_attach",
    "api_photo",
    "api_video",
    "api_chunked",
    "api_dispute",
    "api_claim",
)
#: Files a seeded dispute receives before the next one is used (claims / attach paths).
FILES_PER_DISPUTE = 20
SLOW_SECONDS = 10.0


@dataclass(frozen=True)
class Hostile:
    """One hostile file: what it is (``label``), its upload name, bytes, photo or video."""

    label: str
    name: str
    data: bytes
    kind: str  # "photo" | "video"


# --- The loopback receiver (every SSRF probe points here) ---------------------------


class Receiver:
    """Counts every TCP connection (127.0.0.1 and ::1, one port) and UDP datagram (two
    ports, RTP and RTCP) it gets, with the hostile files in flight at that moment."""

    def __init__(self) -> None:
        self.hits: list[dict[str, Any]] = []
        self.in_flight: dict[int, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        tcp4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp4.bind(("127.0.0.1", 0))
        tcp4.listen(64)
        self.port = int(tcp4.getsockname()[1])
        self._sockets.append(tcp4)
        self.ipv6 = False
        try:
            tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            tcp6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            tcp6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp6.bind(("::1", self.port))
            tcp6.listen(64)
            self._sockets.append(tcp6)
            self.ipv6 = True
        except OSError:
            pass
        self.udp_port = 0
        self._udp: list[socket.socket] = []
        for _ in range(50):
            port = random.randrange(20000, 60000, 2)
            pair = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
            try:
                pair[0].bind(("127.0.0.1", port))
                pair[1].bind(("127.0.0.1", port + 1))
            except OSError:
                for s in pair:
                    s.close()
                continue
            self.udp_port = port
            self._udp = pair
            break
        self._threads = [
            threading.Thread(target=self._accept, args=(s,), daemon=True) for s in self._sockets
        ] + [threading.Thread(target=self._datagrams, args=(s,), daemon=True) for s in self._udp]
        for t in self._threads:
            t.start()

    def _record(self, proto: str, peer: Any, head: bytes) -> None:
        with self._lock:
            self.hits.append(
                {
                    "proto": proto,
                    "peer": str(peer),
                    "head": head[:200].decode("latin-1"),
                    "in_flight": sorted(set(self.in_flight.values())),
                    "t": time.time(),
                }
            )

    def _accept(self, server: socket.socket) -> None:
        server.settimeout(0.5)
        while not self._stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    head = conn.recv(2048)
                except OSError:
                    head = b""
                self._record("tcp", peer, head)
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    def _datagrams(self, sock: socket.socket) -> None:
        sock.settimeout(0.5)
        while not self._stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self._record(f"udp:{sock.getsockname()[1]}", peer, data)

    def flying(self, label: str | None) -> None:
        """Note the file this client thread is sending now (None: done)."""
        with self._lock:
            if label is None:
                self.in_flight.pop(threading.get_ident(), None)
            else:
                self.in_flight[threading.get_ident()] = label

    def count(self) -> int:
        with self._lock:
            return len(self.hits)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        for s in [*self._sockets, *self._udp]:
            s.close()


# --- Valid media made here: the seeds of the mutations ------------------------------


def _sample(name: str, side: int) -> Any:
    import numpy as np
    from PIL import Image
    from skimage import data

    image = Image.fromarray(np.asarray(getattr(data, name)()))
    image.thumbnail((side, side))
    return image


def _save(image: Any, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def base_photos() -> list[tuple[str, str, bytes]]:
    """(label, extension, bytes) of valid photos of every accepted kind (small, so a
    mutation costs what a real photo costs to refuse)."""
    from PIL import Image

    astronaut = _sample("astronaut", 384).convert("RGB")
    coffee = _sample("coffee", 400).convert("RGB")
    chelsea = _sample("chelsea", 360).convert("RGB")
    rocket = _sample("rocket", 320).convert("RGB")
    camera = _sample("camera", 320).convert("L")
    logo = _sample("logo", 256).convert("RGBA")
    wheel = _sample("colorwheel", 256).convert("RGB")
    cells = _sample("immunohistochemistry", 256).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate
    exif[0x0131] = "Adobe Photoshop 25.0"  # Software
    exif[0x010F] = "Hostile Camera"
    exif.get_ifd(0x8825)[1] = "N"  # a GPS IFD
    bases = [
        ("jpeg-baseline", "jpg", _save(astronaut, "JPEG", quality=85)),
        ("jpeg-progressive", "jpg", _save(coffee, "JPEG", quality=80, progressive=True)),
        ("jpeg-exif", "jpg", _save(chelsea, "JPEG", quality=85, exif=exif.tobytes())),
        ("jpeg-gray", "jpg", _save(camera, "JPEG", quality=85)),
        ("jpeg-cmyk", "jpg", _save(rocket.convert("CMYK"), "JPEG", quality=85)),
        ("jpeg-444", "jpg", _save(wheel, "JPEG", quality=95, subsampling=0)),
        ("png-rgb", "png", _save(cells, "PNG")),
        ("png-rgba", "png", _save(logo, "PNG")),
        ("png-palette", "png", _save(wheel.quantize(64), "PNG")),
        ("png-gray16", "png", _save(camera.convert("I;16"), "PNG")),
        (
            "png-apng",
            "png",
            _save(chelsea, "PNG", save_all=True, append_images=[rocket.resize(chelsea.size)]),
        ),
        ("webp-lossy", "webp", _save(astronaut, "WEBP", quality=75)),
        ("webp-lossless", "webp", _save(logo, "WEBP", lossless=True)),
        (
            "webp-animated",
            "webp",
            _save(coffee, "WEBP", save_all=True, append_images=[coffee.rotate(90)]),
        ),
    ]
    with contextlib.suppress(KeyError, OSError, ValueError):
        bases.append(("avif", "avif", _save(chelsea, "AVIF", quality=60)))
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        bases.append(("heic", "heic", _save(coffee, "HEIF", quality=60)))
    except (ImportError, KeyError, OSError, ValueError):
        pass
    return bases


def _frames(width: int, height: int, count: int) -> Iterator[Any]:
    import numpy as np

    photo = np.asarray(_sample("astronaut", 512).convert("RGB").resize((512, 512)))
    for i in range(count):
        x = (i * 7) % max(1, 512 - min(width, 512))
        crop = photo[: min(height, 512), x : x + min(width, 512)]
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        frame[: crop.shape[0], : crop.shape[1]] = crop
        yield frame


def encode_video(
    fmt: str,
    codec: str,
    *,
    size: tuple[int, int] = (160, 120),
    frames: int = 20,
    fps: int = 10,
    gop: int = 5,
    pts: list[int] | None = None,
) -> bytes:
    """A small video encoded with PyAV (``pts`` in seconds places frames far apart)."""
    import av

    out = io.BytesIO()
    width, height = size
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps if pts is None else 1)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.codec_context.gop_size = gop
        options = {
            "libx264": {"preset": "ultrafast"},
            "libx265": {"preset": "ultrafast", "x265-params": "log-level=error"},
            "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
            "libvpx": {"deadline": "realtime", "cpu-used": "8"},
        }.get(codec)
        if options:
            stream.codec_context.options = options
        times = pts if pts is not None else list(range(frames))
        for t, pixels in zip(times, _frames(width, height, len(times)), strict=True):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = t
            frame.time_base = Fraction(1, fps if pts is None else 1)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def base_videos() -> list[tuple[str, str, bytes]]:
    """(label, extension, bytes) of valid tiny videos in every accepted container."""
    bases = [
        ("mp4-h264", "mp4", encode_video("mp4", "libx264")),
        ("mp4-mpeg4", "mp4", encode_video("mp4", "mpeg4")),
        ("mp4-hevc", "mp4", encode_video("mp4", "libx265")),
        ("mov-h264", "mov", encode_video("mov", "libx264")),
        ("webm-vp8", "webm", encode_video("webm", "libvpx")),
        ("webm-vp9", "webm", encode_video("webm", "libvpx-vp9")),
        ("mkv-h264", "mkv", encode_video("matroska", "libx264")),
        ("mkv-mjpeg", "mkv", encode_video("matroska", "mjpeg")),
    ]
    return [b for b in bases if b[2]]


# --- Structure-aware offsets (for length-field mutations) --------------------------

_MP4_CONTAINERS = {
    b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"edts", b"udta",
    b"mvex", b"moof", b"traf", b"iprp", b"ipco", b"meta", b"iinf", b"dref", b"stsd",
}  # fmt: skip
#: Full boxes whose children start after version/flags (and an entry count).
_MP4_SKIP = {b"meta": 4, b"dref": 8, b"stsd": 8, b"iinf": 6}


def _mp4_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, bytes]]:
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind, header = data[pos + 4 : pos + 8], 8
        if size == 1 and pos + 16 <= end:
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield pos, size, header, kind
        pos += size


def _mp4_offsets(data: bytes, start: int, end: int, out: list[tuple[int, int, str]]) -> None:
    for pos, size, header, kind in _mp4_boxes(data, start, end):
        out.append((pos, 4, "big"))
        if kind in (b"tkhd", b"mvhd", b"mdhd", b"ispe", b"stsz", b"stco", b"stts", b"stss"):
            out.extend((pos + header + k, 4, "big") for k in range(4, min(size - header, 96), 4))
        if kind in _MP4_CONTAINERS:
            _mp4_offsets(data, pos + header + _MP4_SKIP.get(kind, 0), pos + size, out)


def structure_offsets(data: bytes) -> list[tuple[int, int, str]]:
    """(offset, width, byte order) of length and size fields the format's parser trusts."""
    out: list[tuple[int, int, str]] = []
    if data[:2] == b"\xff\xd8":  # JPEG: segment lengths, SOF dimensions
        pos = 2
        while pos + 4 <= len(data) and data[pos] == 0xFF:
            marker = data[pos + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                pos += 2
                continue
            out.append((pos + 2, 2, "big"))
            if marker in (0xC0, 0xC1, 0xC2):
                out += [(pos + 5, 2, "big"), (pos + 7, 2, "big"), (pos + 9, 1, "big")]
            if marker == 0xDA:
                out.append((pos + 4, 1, "big"))
                break
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    elif data[:8] == b"\x89PNG\r\n\x1a\n":  # PNG: chunk lengths, IHDR
        pos = 8
        while pos + 8 <= len(data):
            length = int.from_bytes(data[pos : pos + 4], "big")
            out.append((pos, 4, "big"))
            if data[pos + 4 : pos + 8] == b"IHDR":
                out += [(pos + 8, 4, "big"), (pos + 12, 4, "big"), (pos + 16, 1, "big")]
            pos += 12 + length
    elif data[:4] == b"RIFF":  # WebP: RIFF and chunk sizes, VP8X canvas
        out.append((4, 4, "little"))
        pos = 12
        while pos + 8 <= len(data):
            out.append((pos + 4, 4, "little"))
            if data[pos : pos + 4] == b"VP8X":
                out += [(pos + 12, 3, "little"), (pos + 15, 3, "little")]
            size = int.from_bytes(data[pos + 4 : pos + 8], "little")
            pos += 8 + size + (size & 1)
    elif data[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):  # ISO BMFF
        _mp4_offsets(data, 0, len(data), out)
    return [o for o in out if o[0] + o[1] <= len(data)]


# --- Seeded mutations -----------------------------------------------------------


def _flip_bits(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    n = rng.choice([1, 1, 2, 4, 8, 16, 64])
    for _ in range(n):
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
    return f"flip{n}"


def _set_bytes(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    n = rng.choice([1, 2, 4, 8])
    for _ in range(n):
        data[rng.randrange(len(data))] = rng.choice([0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE])
    return f"set{n}"


def _truncate(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    cut = rng.choice([rng.randrange(1, max(2, len(data))), rng.randrange(1, min(len(data), 64))])
    del data[max(1, cut) :]
    return "truncate"


def _splice(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    other = rng.choice(others)
    a, b = rng.randrange(1, len(data)), rng.randrange(0, len(other))
    data[a:] = other[b:]
    return "splice"


def _header_swap(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    other = rng.choice(others)
    k = min(rng.choice([2, 4, 8, 12, 16, 32, 64, 256]), len(other), len(data))
    data[:k] = other[:k]
    return f"header{k}"


def _length_field(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    offsets = structure_offsets(bytes(data))
    if not offsets:
        return _set_bytes(data, rng, others)
    pos, width, order = rng.choice(offsets)
    top = (1 << (8 * width)) - 1
    old = int.from_bytes(data[pos : pos + width], order)  # type: ignore[arg-type]
    new = rng.choice(
        [
            0,
            1,
            top,
            top >> 1,
            (old + 1) & top,
            (old - 1) & top,
            (old * 2) & top,
            rng.randint(0, top),
        ]
    )
    data[pos : pos + width] = new.to_bytes(width, order)  # type: ignore[arg-type]
    return "length"


def _insert(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    pos = rng.randrange(len(data))
    data[pos:pos] = rng.randbytes(rng.choice([1, 7, 64, 4096]))
    return "insert"


def _delete(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    a = rng.randrange(len(data))
    del data[a : a + rng.choice([1, 3, 16, 512, 8192])]
    return "delete"


def _duplicate(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    a = rng.randrange(len(data))
    piece = data[a : a + rng.choice([16, 256, 4096])]
    pos = rng.randrange(len(data))
    data[pos:pos] = piece * rng.choice([1, 2, 16])
    return "duplicate"


def _fill(data: bytearray, rng: random.Random, others: list[bytes]) -> str:
    a = rng.randrange(len(data))
    n = min(len(data) - a, rng.choice([4, 64, 1024]))
    data[a : a + n] = bytes([rng.choice([0x00, 0xFF])]) * n
    return "fill"


MUTATIONS: list[tuple[Callable[[bytearray, random.Random, list[bytes]], str], int]] = [
    (_flip_bits, 30),
    (_set_bytes, 10),
    (_truncate, 12),
    (_splice, 8),
    (_header_swap, 8),
    (_length_field, 18),
    (_insert, 5),
    (_delete, 5),
    (_duplicate, 2),
    (_fill, 2),
]


def mutate(base: bytes, rng: random.Random, others: list[bytes]) -> tuple[bytes, str]:
    """Stack one to three seeded mutations on ``base``; returns the bytes and their names."""
    data = bytearray(base)
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        if len(data) < 4:
            break
        op = rng.choices([m for m, _ in MUTATIONS], weights=[w for _, w in MUTATIONS])[0]
        done.append(op(data, rng, others))
    return bytes(data), "+".join(done)


# --- Hand-made hostile files ------------------------------------------------------


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_raw(
    width: int, height: int, *, bit_depth: int = 8, colour: int = 3, extra: bytes = b""
) -> bytes:
    """A hand-written PNG of flat pixels (a palette image by default): tiny for any size."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = b"\x00" + bytes((width * channels * bit_depth + 7) // 8)
    packer = zlib.compressobj(9)
    body = []
    for _ in range(height):
        body.append(packer.compress(row))
    body.append(packer.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0))
        + (_png_chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff") if colour == 3 else b"")
        + extra
        + _png_chunk(b"IDAT", b"".join(body))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each marker segment and scan (its entropy data included)."""
    segments, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xD9:
            break
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:
            found = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]").search(data, end)
            end = found.start() if found else len(data) - 2
        segments.append((pos, end))
        pos = end
    return segments


def jpeg_scan_bomb(side: int, scans: int) -> bytes:
    """A progressive grey JPEG of ``side``² pixels whose last scan is repeated until it
    has ``scans`` scans (libjpeg walks every block once per scan)."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((side, side))
    data = _save(image, "JPEG", quality=30, progressive=True)
    segments = _jpeg_segments(data)
    scan_spans = [(a, b) for a, b in segments if data[a + 1] == 0xDA]
    have = len(scan_spans)
    a, b = scan_spans[-1]
    extra = data[a:b] * max(0, scans - have)
    return data[:b] + extra + data[b:]


def _jpeg_with_segment(image_jpeg: bytes, segment: bytes) -> bytes:
    return image_jpeg[:2] + segment + image_jpeg[2:]


def _app(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _xmp(body: str) -> bytes:
    return _app(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + body.encode())


def _sof_dims(jpeg: bytes, width: int, height: int) -> bytes:
    data = bytearray(jpeg)
    for a, _b in _jpeg_segments(jpeg):
        if data[a + 1] in (0xC0, 0xC1, 0xC2):
            data[a + 5 : a + 7] = height.to_bytes(2, "big")
            data[a + 7 : a + 9] = width.to_bytes(2, "big")
            break
    return bytes(data)


def _exif_loop_jpeg(jpeg: bytes) -> bytes:
    # TIFF header, IFD0 with one entry whose next-IFD pointer points back at IFD0.
    tiff = b"MM\x00*" + struct.pack(">I", 8)
    ifd = struct.pack(">H", 2)
    ifd += struct.pack(">HHII", 0x0112, 3, 1, 6 << 16)  # orientation 6
    ifd += struct.pack(">HHII", 0x8769, 4, 1, 8)  # Exif IFD pointer → IFD0 again
    ifd += struct.pack(">I", 8)  # next IFD: itself
    return _jpeg_with_segment(jpeg, _app(0xE1, b"Exif\x00\x00" + tiff + ifd))


def hostile_photos(receiver: Receiver, small_jpeg: bytes, small_png: bytes) -> list[Hostile]:
    """The hand-made hostile photos (each photo path receives every one)."""
    from PIL import Image

    url = f"http://127.0.0.1:{receiver.port}"
    gradient = Image.linear_gradient("L").convert("RGB")
    out: list[tuple[str, str, bytes]] = [
        ("bomb: PNG 20000×20000 palette", "bomb.png", png_raw(20000, 20000, bit_depth=1)),
        ("bomb: PNG 7744×7744 palette (under the pixel cap)", "big.png", png_raw(7744, 7744)),
        ("bomb: progressive JPEG 7744² × 25,000 scans", "scans.jpg", jpeg_scan_bomb(7744, 25000)),
        (
            "bomb: progressive JPEG 7744² × 50 scans (at the cap)",
            "s50.jpg",
            jpeg_scan_bomb(7744, 50),
        ),
        ("bomb: JPEG SOF 65500×65500", "huge.jpg", _sof_dims(small_jpeg, 65500, 65500)),
        ("bomb: JPEG SOF 30000×2000, no data", "wide.jpg", _sof_dims(small_jpeg, 30000, 2000)),
        (
            "bomb: PNG zTXt 64 MB of zeros",
            "ztxt.png",
            png_raw(
                64,
                64,
                extra=_png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(64 << 20), 9)),
            ),
        ),
        (
            "bomb: PNG iCCP 64 MB of zeros",
            "iccp.png",
            png_raw(
                64,
                64,
                colour=2,
                extra=_png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(bytes(64 << 20), 9)),
            ),
        ),
        (
            "bomb: WebP VP8X canvas 16384×16384",
            "canvas.webp",
            webp_canvas(_save(Image.new("RGB", (16, 16)), "WEBP", lossless=True), 16384),
        ),
        (
            "bomb: JPEG with 3,000 APP1 segments",
            "apps.jpg",
            _jpeg_with_segment(small_jpeg, _app(0xE1, b"x" * 1000) * 3000),
        ),
        ("EXIF IFD that points at itself", "exifloop.jpg", _exif_loop_jpeg(small_jpeg)),
        ("thin: 1×20000 PNG", "thin.png", png_raw(1, 20000)),
        ("thin: 20000×1 PNG", "flat.png", png_raw(20000, 1)),
        ("thin: 65000×1 PNG", "flat2.png", png_raw(65000, 1)),
        ("thin: 1×1 PNG", "dot.png", png_raw(1, 1)),
        ("thin: 15×15 PNG", "tiny.png", _save(gradient.resize((15, 15)), "PNG")),
        ("thin: 16×480 PNG (30:1)", "strip.png", _save(gradient.resize((16, 480)), "PNG")),
        ("thin: 16×500 JPEG (31:1)", "strip.jpg", _save(gradient.resize((16, 500)), "JPEG")),
        ("HTML named .jpg", "photo.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("PHP named .jpg", "photo.jpg", b"<?php system($_GET['c']); ?>"),
        ("PHP named .php.jpg", "shell.php.jpg", b"GIF89a<?php system($_GET['c']); ?>"),
        (
            "SVG with external entity named .jpg",
            "xxe.jpg",
            f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "{url}/svg-xxe">]>'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
            f"<text>&x;</text></svg>".encode(),
        ),
        (
            "SVG with external entity named .svg",
            "xxe.svg",
            f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "{url}/svg-xxe2">]>'
            f'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'.encode(),
        ),
        (
            "SVG with remote <image> named .png",
            "img.png",
            f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            f'<image xlink:href="{url}/svg-image.png" width="64" height="64"/></svg>'.encode(),
        ),
        ("polyglot: JPEG + PHP appended", "poly.jpg", small_jpeg + b"<?php phpinfo(); ?>"),
        (
            "polyglot: JPEG with <script> in a COM segment",
            "com.jpg",
            _jpeg_with_segment(small_jpeg, _app(0xFE, b"<script>alert(document.domain)</script>")),
        ),
        (
            "polyglot: PNG with PHP in tEXt",
            "text.png",
            small_png[:33]
            + _png_chunk(b"tEXt", b"Comment\x00<?php phpinfo(); ?>")
            + small_png[33:],
        ),
        ("polyglot: JPEG + ZIP", "zip.jpg", small_jpeg + _zip_bytes()),
        (
            "polyglot: GIF/JavaScript",
            "gifjs.jpg",
            b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=alert(1);",
        ),
        ("polyglot: PDF then JPEG", "pdf.jpg", b"%PDF-1.4\n%\xe2\xe3\n" + small_jpeg),
        (
            "SSRF: XMP with an external entity",
            "xmp.jpg",
            _jpeg_with_segment(
                small_jpeg,
                _xmp(
                    f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "{url}/xmp-xxe">]>'
                    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
                    '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>&e;'
                    "</rdf:Description></rdf:RDF></x:xmpmeta>"
                ),
            ),
        ),
        (
            "SSRF: XMP dcterms:provenance → remote C2PA manifest",
            "c2pa.jpg",
            _jpeg_with_segment(
                small_jpeg,
                _xmp(
                    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
                    '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
                    'xmlns:dcterms="http://purl.org/dc/terms/" '
                    f'dcterms:provenance="{url}/remote.c2pa"/></rdf:RDF></x:xmpmeta>'
                ),
            ),
        ),
        (
            "SSRF: PNG iTXt XMP with an external entity",
            "xmp.png",
            small_png[:33]
            + _png_chunk(
                b"iTXt",
                b"XML:com.adobe.xmp\x00\x00\x00\x00\x00"
                + f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "{url}/png-xxe">]>'
                f"<x:xmpmeta xmlns:x='adobe:ns:meta/'>&e;</x:xmpmeta>".encode(),
            )
            + small_png[33:],
        ),
        (
            "C2PA: JUMBF APP11 garbage",
            "jumbf.jpg",
            _jpeg_with_segment(
                small_jpeg,
                _app(
                    0xEB, b"JP\x00\x00\x00\x00\x00\x01" + b"\x00\x00\xff\xffjumb" + os_bytes(3000)
                ),
            ),
        ),
        ("empty .jpg", "empty.jpg", b""),
        ("empty .png", "empty.png", b""),
        ("one byte", "one.jpg", b"\xff"),
        ("name: ../../etc/passwd.jpg", "../../etc/passwd.jpg", small_jpeg),
        ("name: ..\\..\\boot.ini.jpg", "..\\..\\boot.ini.jpg", small_jpeg),
        ("name: /etc/shadow.jpg", "/etc/shadow.jpg", small_jpeg),
        ("name: sub/dir/photo.jpg", "sub/dir/photo.jpg", small_jpeg),
        ("name: ..", "..", small_jpeg),
        ("name: .jpg", ".jpg", small_jpeg),
        ("name: 300 characters", "a" * 296 + ".jpg", small_jpeg),
        ("name: NUL inside", "photo\x00.php.jpg", small_jpeg),
        ("name: CR LF header injection", "photo\r\nX-Injected: 1.jpg", small_jpeg),
        ("name: right-to-left override", "photo\u202egpj.php", small_jpeg),
        ("name: <script>", "<script>alert(1)</script>.jpg", small_jpeg),
        ("GIF named .jpg", "gif.jpg", _save(gradient.resize((64, 64)), "GIF")),
        ("TIFF named .jpg", "tiff.jpg", _save(gradient.resize((64, 64)), "TIFF")),
        ("BMP named .jpg", "bmp.jpg", _save(gradient.resize((64, 64)), "BMP")),
        ("ICO named .png", "ico.png", _save(gradient.resize((64, 64)), "ICO")),
        (
            "DNG-like TIFF named .jpg",
            "raw.jpg",
            b"II*\x00\x08\x00\x00\x00\x01\x00" + struct.pack("<HHII", 0xC612, 1, 4, 0x01040000),
        ),
        ("oversize: 31 MB", "big.jpg", small_jpeg[:-2] + bytes(31 << 20) + b"\xff\xd9"),
    ]
    return [Hostile(label, name, data, "photo") for label, name, data in out]


def webp_canvas(webp: bytes, side: int) -> bytes:
    """A still WebP given a VP8X header that claims a ``side``² canvas."""
    side_bytes = (side - 1).to_bytes(3, "little")
    chunks = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + side_bytes * 2 + webp[12:]
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


def os_bytes(n: int) -> bytes:
    return random.Random(n).randbytes(n)


def _zip_bytes() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("shell.php", "<?php phpinfo(); ?>")
    return out.getvalue()


def _mp4_box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _mp4_replace(data: bytes, path: list[bytes], payload: bytes) -> bytes:
    """``data`` with the box at ``path`` given ``payload`` (parents' sizes fixed)."""

    def rebuild(segment: bytes, rest: list[bytes], skip: int) -> bytes:
        out = bytearray(segment[:skip])
        for pos, size, header, kind in _mp4_boxes(segment, skip, len(segment)):
            if kind == rest[0]:
                body = (
                    payload
                    if len(rest) == 1
                    else rebuild(segment[pos + header : pos + size], rest[1:], 0)
                )
                out += _mp4_box(kind, body)
            else:
                out += segment[pos : pos + size]
        return bytes(out)

    return rebuild(data, path, 0)


def mp4_with_dref(mp4: bytes, url: str) -> bytes:
    """An MP4 whose sample data lives "elsewhere": a ``dref`` URL entry (not
    self-contained, flags 0) that a demuxer following references would fetch."""
    entry = _mp4_box(b"url ", b"\x00\x00\x00\x00" + url.encode() + b"\x00")
    urn = _mp4_box(b"urn ", b"\x00\x00\x00\x00urn:x\x00" + url.encode() + b"/urn\x00")
    payload = b"\x00\x00\x00\x00" + struct.pack(">I", 2) + entry + urn
    return _mp4_replace(mp4, [b"moov", b"trak", b"mdia", b"minf", b"dinf", b"dref"], payload)


def hostile_videos(receiver: Receiver, mp4: bytes, webm: bytes, jpeg: bytes) -> list[Hostile]:
    """The hand-made hostile videos (each video path receives every one)."""
    url = f"http://127.0.0.1:{receiver.port}"
    hls = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:10.0,\n{url}/hls/seg0.ts\n#EXT-X-ENDLIST\n"
    ).encode()
    sdp = (
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=probe\nc=IN IP4 127.0.0.1\nt=0 0\n"
        f"m=video {receiver.udp_port} RTP/AVP 96\na=rtpmap:96 H264/90000\n"
    ).encode()
    ffconcat = f"ffconcat version 1.0\nfile '{url}/concat.mp4'\nduration 10\n".encode()
    subfile = f"ffconcat version 1.0\nfile 'subfile,,start,0,end,4096,,:{url}/subfile.mp4'\n"
    moov_huge = bytearray(mp4)
    for pos, _size, _header, kind in _mp4_boxes(mp4, 0, len(mp4)):
        if kind == b"moov":
            moov_huge[pos : pos + 4] = b"\xff\xff\xff\xff"
    hostile: list[tuple[str, str, bytes]] = [
        ("SSRF: HLS playlist .m3u8", "pack.m3u8", hls),
        ("SSRF: HLS playlist .M3U8", "pack.M3U8", hls),
        ("SSRF: HLS playlist .m3u", "pack.m3u", hls),
        ("SSRF: HLS playlist named .mp4", "pack.mp4", hls),
        (
            "SSRF: HLS with EXT-X-KEY and EXT-X-MAP",
            "key.mp4",
            (
                "#EXTM3U\n#EXT-X-TARGETDURATION:10\n"
                f'#EXT-X-KEY:METHOD=AES-128,URI="{url}/hls/key"\n'
                f'#EXT-X-MAP:URI="{url}/hls/init.mp4"\n#EXTINF:10,\n{url}/hls/s.ts\n'
                "#EXT-X-ENDLIST\n"
            ).encode(),
        ),
        (
            "SSRF: HLS master playlist → rtsp/tcp",
            "master.mp4",
            (
                "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n"
                f"rtsp://127.0.0.1:{receiver.port}/live\n"
                f"#EXT-X-STREAM-INF:BANDWIDTH=2\ntcp://127.0.0.1:{receiver.port}\n"
            ).encode(),
        ),
        ("SSRF: SDP .sdp", "pack.sdp", sdp),
        ("SSRF: SDP named .mp4", "sdp.mp4", sdp),
        ("SSRF: ffconcat named .mp4", "concat.mp4", ffconcat),
        ("SSRF: ffconcat .txt", "concat.txt", ffconcat),
        ("SSRF: ffconcat + subfile", "subfile.mp4", subfile.encode()),
        ("SSRF: MP4 ftyp then HLS", "ftyp.mp4", mp4[:32] + b"\n" + hls),
        ("SSRF: EBML magic then HLS", "ebml.webm", webm[:4] + b"\n" + hls),
        ("SSRF: MP4 with a dref URL", "dref.mp4", mp4_with_dref(mp4, f"{url}/dref.mp4")),
        ("long: 1 h 59 m, 3 frames", "long.mp4", encode_video("mp4", "mpeg4", size=(64, 64),
                                                              pts=[0, 3600, 7140])),
        ("long: 2 h 30 m, 3 frames", "longer.mp4", encode_video("mp4", "mpeg4", size=(64, 64),
                                                                pts=[0, 4000, 9000])),
        ("big: 3840×2160, 2 frames", "uhd.mp4", encode_video("mp4", "libx264",
                                                             size=(3840, 2160), frames=2)),
        ("keyframes: 300 of 640×480, GOP 1", "gop1.mp4", encode_video("mp4", "libx264",
                                                                      size=(640, 480),
                                                                      frames=300, fps=15, gop=1)),
        ("MP4 moov size 0xFFFFFFFF", "moov.mp4", bytes(moov_huge)),
        ("empty .mp4", "empty.mp4", b""),
        ("HTML named .mp4", "video.mp4", b"<html><script>alert(1)</script></html>"),
        ("PHP named .mp4", "video.mp4", b"<?php system($_GET['c']); ?>"),
        ("JPEG named .mp4", "photo.mp4", jpeg),
        ("MPEG-TS named .mp4", "ts.mp4", encode_video("mpegts", "mpeg4")),
        ("AVI named .mp4", "avi.mp4", encode_video("avi", "mpeg4")),
        ("FLV named .mp4", "flv.mp4", encode_video("flv", "flv")),
        ("name: ../../etc/cron.d/x.mp4", "../../etc/cron.d/x.mp4", mp4),
        ("name: C:\\x.mp4", "C:\\Windows\\x.mp4", mp4),
        ("name: ..", "..", mp4),
        ("name: 300 characters", "v" * 296 + ".mp4", mp4),
        ("name: NUL inside", "pack\x00.php.mp4", mp4),
    ]  # fmt: skip
    return [Hostile(label, name, data, "video") for label, name, data in hostile]


def corpus(
    kind: str,
    count: int,
    seed: int,
    *,
    hand_made: list[Hostile],
    bases: list[tuple[str, str, bytes]],
) -> Iterator[Hostile]:
    """``count`` hostile files of one kind: every hand-made one, then seeded mutations."""
    rng = random.Random(seed)
    others = [b[2] for b in bases]
    for n, item in enumerate(hand_made):
        if n >= count:
            return
        yield item
    extensions = sorted({b[1] for b in bases})
    for n in range(count - len(hand_made)):
        label, extension, data = rng.choice(bases)
        mutated, how = mutate(data, rng, others)
        if rng.random() < 0.1:
            extension = rng.choice(extensions)
        yield Hostile(f"mutation: {label} {how}", f"m{n:05d}.{extension}", mutated, kind)


# --- The app: environment, seed data, server --------------------------------------


def app_env(var_dir: Path, args: argparse.Namespace) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "REFUNDGUARD_", "CELERY_")) and k not in ("DATABASE_URL",)
    }
    env.update(
        {
            "REFUNDGUARD_VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"),
            "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}",
            # Eager: nothing is sent to a broker (the URL is never used).
            "REDIS_URL": f"redis+socket://{var_dir / 'run' / 'none.sock'}",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "DJANGO_DEBUG": "true",
            "REFUNDGUARD_WEBHOOK_ALLOW_PRIVATE": "false",
            "REFUNDGUARD_HTTPS": "false",
            "REFUNDGUARD_API_RATE": "1000000/min",
            "REFUNDGUARD_LOGIN_FAILURE_LIMIT": "1000",
            "LOG_LEVEL": "WARNING",
            # Django's temporary upload files (over 5 MB) land here: counted afterwards.
            "TMPDIR": str(var_dir / "tmp"),
        }
    )
    return env


@dataclass
class Seeded:
    """What a path acts on: its owner, token, product, disputes."""

    username: str
    token: str
    product_id: int
    dispute_ids: list[int] = field(default_factory=list)
    merchant_id: int = 0


def seed(paths: list[str], count: int, receiver: Receiver) -> dict[str, Seeded]:
    """One merchant per path: owner, product with two fingerprinted reference photos,
    API token, open disputes for the claim/attach paths, and a loopback webhook endpoint
    written through the ORM (so only the delivery-time check stands in its way)."""
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from api import services as api_services
    from api.models import WebhookEndpoint
    from core.services import merchant_create
    from disputes import services as dispute_services
    from evidence import services as evidence_services
    from evidence.demo import photo_jpeg, sample_photo

    references = [photo_jpeg(sample_photo(name)) for name in ("astronaut", "coffee")]
    seeded = {}
    for n, path in enumerate(paths):
        owner = get_user_model().objects.create_user(f"owner-{path}", password=PASSWORD)
        merchant = merchant_create(slug=f"shop-{n}", name=f"Shop {path}", owner=owner)
        product = evidence_services.product_create(
            merchant=merchant, actor=owner, sku="SKU-1", title="Poster"
        )
        for k, data in enumerate(references):
            evidence_services.photo_ingest(
                product=product,
                upload=ContentFile(data, name=f"ref-{k}.jpg"),
                filename=f"ref-{k}.jpg",
                uploader=owner,
            )
        token = api_services.token_create(merchant=merchant, actor=owner, name="hostile").secret
        disputes = []
        if path in ("api_claim", "web_attach"):
            for d in range(-(-count // FILES_PER_DISPUTE)):
                disputes.append(
                    dispute_services.dispute_open(
                        merchant=merchant,
                        actor=owner,
                        platform="taobao",
                        external_id=f"SEED-{d}",
                        order_ref=f"ORDER-{d}",
                        buyer_ref=f"buyer-{d % 7}",
                        product=product,
                        claim_type="refund_only",
                        reason="seeded",
                        amount=Decimal("10.00"),
                        currency="CNY",
                        respond_by=timezone.now() + timedelta(days=3),
                        photos=[],
                    ).pk
                )
        for host in ("127.0.0.1", "localhost"):
            WebhookEndpoint.objects.create(
                merchant=merchant,
                url=f"http://{host}:{receiver.port}/seeded-webhook",
                secret="whsec_hostile",
                created_by=owner,
            )
        seeded[path] = Seeded(owner.username, token, product.pk, disputes, merchant.pk)
    return seeded


def server_start(env: dict[str, str], port: int, args: argparse.Namespace, log: Path) -> Any:
    bin_dir = Path(sys.executable).parent
    if args.server == "runserver":
        command = [
            sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}",
        ]  # fmt: skip
    else:
        command = [
            str(bin_dir / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}",
            "-w", str(args.web_workers), "--timeout", "900", "--graceful-timeout", "30",
        ]  # fmt: skip
    handle = log.open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def server_stop(process: Any) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Clients: one function per upload path ------------------------------------------


@dataclass
class Outcome:
    """One hostile file through one path."""

    path: str
    label: str
    name: str
    status: int | str  # the final HTTP status, or the connection error's name
    requests: list[tuple[str, int | str, float]]
    body: str = ""  # a 5xx: the exception its DEBUG error page names


class Client:
    """The requests one thread makes for every path (a signed-in session per web path)."""

    def __init__(self, base: str, seeded: dict[str, Seeded], timeout: float) -> None:
        import requests

        self.requests = requests
        self.base = base
        self.seeded = seeded
        self.timeout = timeout
        self._sessions: dict[str, Any] = {}

    def web(self, path: str) -> Any:
        if path not in self._sessions:
            session = self.requests.Session()
            page = session.get(f"{self.base}/accounts/login/", timeout=60)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert token, "no CSRF token on the login page"
            session.post(
                f"{self.base}/accounts/login/",
                data={
                    "username": self.seeded[path].username,
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": token.group(1),
                },
                headers={"Referer": f"{self.base}/accounts/login/"},
                timeout=60,
            )
            assert "sessionid" in session.cookies, f"login failed for {path}"
            self._sessions[path] = session
        return self._sessions[path]

    def api(self, path: str) -> Any:
        key = f"api:{path}"
        if key not in self._sessions:
            session = self.requests.Session()
            session.headers["Authorization"] = f"Bearer {self.seeded[path].token}"
            self._sessions[key] = session
        return self._sessions[key]

    def _timed(self, log: list[Any], what: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            response = call()
        except self.requests.RequestException as exc:
            log.append((what, type(exc).__name__, time.perf_counter() - started))
            raise
        log.append((what, response.status_code, time.perf_counter() - started))
        return response

    def send(self, path: str, n: int, item: Hostile) -> Outcome:
        log: list[tuple[str, int | str, float]] = []
        try:
            response = getattr(self, f"_{path}")(n, item, log)
        except self.requests.RequestException as exc:
            return Outcome(path, item.label, item.name, type(exc).__name__, log)
        body = _exception(response.text) if response.status_code >= 500 else ""
        return Outcome(path, item.label, item.name, response.status_code, log, body)

    def _web_post(self, path: str, url: str, log: list[Any], **kwargs: Any) -> Any:
        session = self.web(path)
        headers = {
            "X-CSRFToken": session.cookies.get("csrftoken", ""),
            "Referer": url,
            "Accept": "application/json",
        }
        return self._timed(
            log,
            "POST",
            lambda: session.post(
                url, headers=headers, timeout=self.timeout, allow_redirects=False, **kwargs
            ),
        )

    @staticmethod
    def _file(item: Hostile) -> tuple[str, bytes, str]:
        return (item.name, item.data, "application/octet-stream")

    def _web_photo(self, n: int, item: Hostile, log: list[Any]) -> Any:
        url = f"{self.base}/evidence/products/{self.seeded['web_photo'].product_id}/"
        return self._web_post("web_photo", url, log, files={"files": self._file(item)})

    def _web_video(self, n: int, item: Hostile, log: list[Any]) -> Any:
        return self._web_post(
            "web_video",
            f"{self.base}/evidence/videos/",
            log,
            data={"order_ref": f"HOSTILE-{n}"},
            files={"file": self._file(item)},
        )

    def _web_attach(self, n: int, item: Hostile, log: list[Any]) -> Any:
        seeded = self.seeded["web_attach"]
        dispute = seeded.dispute_ids[(n // FILES_PER_DISPUTE) % len(seeded.dispute_ids)]
        field_name = "photos" if item.kind == "photo" else "video"
        return self._web_post(
            "web_attach",
            f"{self.base}/disputes/{dispute}/evidence/",
            log,
            data={"product": str(seeded.product_id)},
            files={field_name: self._file(item)},
        )

    def _api_post(self, path: str, url: str, log: list[Any], **kwargs: Any) -> Any:
        session = self.api(path)
        return self._timed(
            log, "POST", lambda: session.post(self.base + url, timeout=self.timeout, **kwargs)
        )

    def _api_photo(self, n: int, item: Hostile, log: list[Any]) -> Any:
        url = f"/api/v1/products/{self.seeded['api_photo'].product_id}/photos/"
        return self._api_post("api_photo", url, log, files={"files": self._file(item)})

    def _api_video(self, n: int, item: Hostile, log: list[Any]) -> Any:
        return self._api_post(
            "api_video",
            "/api/v1/videos/",
            log,
            data={"order_ref": f"HOSTILE-{n}"},
            files={"file": self._file(item)},
        )

    def _api_dispute(self, n: int, item: Hostile, log: list[Any]) -> Any:
        return self._api_post(
            "api_dispute",
            "/api/v1/disputes/",
            log,
            data={
                "platform": "taobao",
                "external_id": f"HOSTILE-{n}",
                "order_ref": f"ORDER-{n}",
                "buyer_ref": f"tb_buyer_{n % 40}",
                "claim_type": "refund_only",
                "reason": "Arrived broken",
                "amount": "99.00",
                "currency": "CNY",
                "respond_by": "2030-01-01T12:00:00+08:00",
                "product": str(self.seeded["api_dispute"].product_id),
            },
            files=[("photos", self._file(item))],
        )

    def _api_claim(self, n: int, item: Hostile, log: list[Any]) -> Any:
        seeded = self.seeded["api_claim"]
        dispute = seeded.dispute_ids[(n // FILES_PER_DISPUTE) % len(seeded.dispute_ids)]
        return self._api_post(
            "api_claim",
            f"/api/v1/disputes/{dispute}/claim-images/",
            log,
            files={"photos": self._file(item)},
        )

    def _api_chunked(self, n: int, item: Hostile, log: list[Any]) -> Any:
        """Start, PATCH in one to three pieces (every tenth file with a wrong offset
        first, every tenth declaring 100 bytes more than it sends), then the video."""
        session = self.api("api_chunked")
        declared = len(item.data) + (100 if n % 10 == 7 else 0)
        start = self._timed(
            log,
            "POST uploads",
            lambda: session.post(
                f"{self.base}/api/v1/uploads/",
                json={"filename": item.name, "size": declared},
                timeout=self.timeout,
            ),
        )
        if start.status_code != 201:
            return start
        upload = start.json()["id"]
        rng = random.Random(n)
        cuts = sorted({0, len(item.data), *(rng.randrange(len(item.data) + 1) for _ in range(2))})
        url = f"{self.base}/api/v1/uploads/{upload}/"
        if n % 10 == 8:
            self._timed(
                log,
                "PATCH wrong offset",
                lambda: session.patch(
                    url,
                    data=item.data[:10],
                    headers={
                        "Content-Type": "application/offset+octet-stream",
                        "Upload-Offset": "5",
                    },
                    timeout=self.timeout,
                ),
            )
        for a, b in pairwise(cuts):
            piece = self._timed(
                log,
                "PATCH",
                lambda a=a, b=b: session.patch(
                    url,
                    data=item.data[a:b],
                    headers={
                        "Content-Type": "application/offset+octet-stream",
                        "Upload-Offset": str(a),
                    },
                    timeout=self.timeout,
                ),
            )
            if piece.status_code != 200:
                return piece
        return self._timed(
            log,
            "POST videos",
            lambda: session.post(
                f"{self.base}/api/v1/videos/",
                json={"order_ref": f"HOSTILE-{n}", "upload": upload},
                timeout=self.timeout,
            ),
        )


def webhook_probes(client: Client, path: str, receiver: Receiver) -> list[dict[str, Any]]:
    """Register webhook endpoints that reach loopback/private addresses through the
    Integrations form; every one must be refused (HTTP 400)."""
    port = receiver.port
    urls = [
        f"http://127.0.0.1:{port}/hook",
        f"http://[::ffff:127.0.0.1]:{port}/hook",
        f"http://[64:ff9b::7f00:1]:{port}/hook",
        f"http://localhost:{port}/hook",
        f"http://[::1]:{port}/hook",
        f"http://[::127.0.0.1]:{port}/hook",
        f"http://[2002:7f00:1::]:{port}/hook",
        f"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/hook",
        f"http://[64:ff9b:1::7f00:1]:{port}/hook",
        f"http://[::ffff:7f00:1]:{port}/hook",
        f"http://0.0.0.0:{port}/hook",
        f"http://127.1:{port}/hook",
        f"http://2130706433:{port}/hook",
        f"http://0x7f000001:{port}/hook",
        f"http://017700000001:{port}/hook",
        f"http://localhost.:{port}/hook",
        f"http://LOCALHOST:{port}/hook",
        f"https://127.0.0.1:{port}/hook",
        f"http://user@127.0.0.1:{port}/hook",
        f"http://example.com@127.0.0.1:{port}/hook",
        f"http://127.0.0.1:{port}#@example.com/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/hook",
        "http://192.168.0.1/hook",
        "http://[fe80::1]/hook",
    ]
    session = client.web(path)
    page = f"{client.base}/settings/integrations/"
    session.get(page, timeout=60)
    results = []
    for url in urls:
        before = receiver.count()
        started = time.perf_counter()
        response = session.post(
            f"{client.base}/settings/integrations/webhooks/",
            data={"url": url, "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
            headers={"Referer": page},
            timeout=60,
        )
        results.append(
            {
                "url": url,
                "status": response.status_code,
                "refused": response.status_code == 400,
                "seconds": round(time.perf_counter() - started, 3),
                "receiver_hits": receiver.count() - before,
            }
        )
    return results


# --- After the run: what the files and rows say ------------------------------------


def storage_report(media: Path, tmp: Path) -> dict[str, Any]:
    """Orphans and leftovers, read through the ORM after the server has stopped."""
    from api.models import ChunkedUpload, WebhookDelivery
    from disputes.models import ClaimImage
    from evidence.models import PackingVideo, ReferencePhoto

    rows: set[str] = set()
    shas: set[str] = set()
    statuses: dict[str, dict[str, int]] = {}
    reasons: Counter[str] = Counter()
    for model, status_field in (
        (ReferencePhoto, "status"),
        (PackingVideo, "status"),
        (ClaimImage, "analysis_status"),
    ):
        rows |= set(model.objects.values_list("file", flat=True))
        shas |= set(model.objects.values_list("sha256", flat=True))
        statuses[model.__name__] = dict(Counter(model.objects.values_list(status_field, flat=True)))
        for reason in model.objects.exclude(failure_reason="").values_list(
            "failure_reason", flat=True
        ):
            reasons[f"{model.__name__}: {reason[:110]}"] += 1
    originals = media / "originals"
    files = (
        {p.relative_to(media).as_posix() for p in originals.rglob("*") if p.is_file()}
        if originals.exists()
        else set()
    )
    partial = {p.stem for p in (media / "partial").glob("*.part")}
    uploads = {str(u.pk): u.consumed_at for u in ChunkedUpload.objects.all()}
    derived = media / "derived"
    derived_orphans = (
        sum(1 for p in derived.glob("*/*") if p.is_dir() and p.name not in shas)
        if derived.exists()
        else 0
    )
    stuck = sum(
        n
        for counts in statuses.values()
        for status, n in counts.items()
        if status in ("pending", "processing")
    )
    deliveries = Counter(WebhookDelivery.objects.values_list("status", flat=True))
    return {
        "originals_files": len(files),
        "originals_rows": len(rows),
        "files_without_row": sorted(files - rows),
        "rows_without_file": sorted(rows - files),
        "partial_files": len(partial),
        "partial_without_row": sorted(partial - set(uploads)),
        "partial_of_consumed_upload": sorted(p for p in partial if uploads.get(p) is not None),
        "unconsumed_uploads": sum(1 for v in uploads.values() if v is None),
        "derived_dirs_without_original": derived_orphans,
        "temp_files_left": sum(1 for p in tmp.rglob("*") if p.is_file()) if tmp.exists() else 0,
        "statuses": statuses,
        "stuck_pending_or_processing": stuck,
        "failure_reasons": reasons.most_common(12),
        "webhook_deliveries": dict(deliveries),
    }


def stored_per_path(seeded: dict[str, Seeded]) -> dict[str, int]:
    """Rows each path's uploads left (the seeded reference photos not counted)."""
    from disputes.models import ClaimImage
    from evidence.models import PackingVideo, ReferencePhoto

    return {
        path: ReferencePhoto.objects.filter(merchant_id=s.merchant_id).count()
        - 2
        + PackingVideo.objects.filter(merchant_id=s.merchant_id).count()
        + ClaimImage.objects.filter(merchant_id=s.merchant_id).count()
        for path, s in seeded.items()
    }


def server_log_report(log: Path) -> dict[str, Any]:
    """Tracebacks and worker deaths in the server's log."""
    text = log.read_text(errors="replace") if log.exists() else ""
    tracebacks = []
    first: dict[str, list[str]] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        # With DEBUG on, Django's own console handler prints each django.request record a
        # second time, without a timestamp: only the timestamped copy is counted.
        if line.startswith("Traceback (most recent call last)") and (
            i and "ERROR" in lines[i - 1] and lines[i - 1][:1] in "[0123456789"
        ):
            # The exception is the first line after the frames that is not indented.
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j] and not lines[j][0].isspace()),
                len(lines) - 1,
            )
            last = lines[end].strip()[:200]
            tracebacks.append(_numbers(last))
            # Its first occurrence in full, less the caret lines and framework frames.
            frames = [x for x in lines[i : end + 1] if x.strip() and set(x.strip()) - set("^~")]
            deepest = max(k for k, x in enumerate(frames) if x.startswith("  File ") or k == 0)
            keep = [
                x
                for k, x in enumerate(frames)
                if k >= deepest
                or (
                    "site-packages" not in x
                    and not (k and "site-packages" in frames[k - 1] and x.startswith("    "))
                )
            ]
            first.setdefault(_numbers(last), keep[-16:])
    worker_deaths = re.findall(
        r"(WORKER TIMEOUT.*|Worker \(pid:\d+\) was sent.*|exited with code.*)", text
    )
    errors = [line[:200] for line in text.splitlines() if " ERROR " in line]
    return {
        "tracebacks": len(tracebacks),
        "traceback_kinds": Counter(tracebacks).most_common(10),
        "error_lines": len(errors),
        "error_samples": errors[:8],
        "worker_deaths": worker_deaths[:10],
        "first_tracebacks": first,
    }


def _numbers(text: str) -> str:
    """``text`` on one line with its numbers as N (one group per kind of failure)."""
    return re.sub(r"\d+", "N", " ".join(text.split()))


def _file_kind(label: str) -> str:
    """``mutation: avif flip1`` → ``mutated avif``; a hand-made file's label as it is."""
    if label.startswith("mutation: "):
        return "mutated " + label.split()[1]
    return label


def _exception(body: str) -> str:
    """The exception a DEBUG error page names (HTML or plain text)."""
    title = re.search(r"<title>\s*(.*?)\s+at\s", body, re.S)
    value = re.search(r'<pre class="exception_value">(.*?)</pre>', body, re.S)
    if title:
        return f"{title.group(1)}: {html.unescape(value.group(1)) if value else ''}"[:200]
    first = body.strip().splitlines()[:2]
    if len(first) == 2 and " at /" in first[0]:
        return f"{first[0].split(' at /')[0]}: {first[1]}"[:200]
    return body[:200]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _save_failure(directory: Path, outcome: Outcome, item: Hostile) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{outcome.path}-{zlib.crc32((item.label + item.name).encode()):08x}"
    (directory / f"{stem}.bin").write_bytes(item.data)
    (directory / f"{stem}.json").write_text(
        json.dumps(
            {
                "path": outcome.path,
                "label": item.label,
                "name": item.name,
                "status": outcome.status,
                "requests": outcome.requests,
                "body": outcome.body,
            },
            indent=1,
        )
    )


def run_path(
    path: str,
    items: list[Hostile],
    clients: list[Client],
    receiver: Receiver,
    failures: Path,
) -> list[Outcome]:
    """Send every item through ``path`` with one thread per client."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    jobs = iter(enumerate(items))
    started = time.time()

    def loop(client: Client) -> None:
        while True:
            with lock:
                job = next(jobs, None)
            if job is None:
                return
            n, item = job
            receiver.flying(f"{path}: {item.label} ({item.name!r})")
            hits_before = receiver.count()
            outcome = client.send(path, n, item)
            receiver.flying(None)
            slow = any(r[2] > SLOW_SECONDS for r in outcome.requests)
            bad = not isinstance(outcome.status, int) or outcome.status >= 500
            with lock:
                outcomes.append(outcome)
                done = len(outcomes)
                if bad or slow or receiver.count() > hits_before:
                    _save_failure(failures, outcome, item)
            if done % 100 == 0 or done == len(items):
                print(
                    f"  {path}: {done}/{len(items)} in {time.time() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )

    threads = [threading.Thread(target=loop, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def items_for(
    path: str,
    count: int,
    seed_value: int,
    photos: tuple[list[Hostile], list[tuple[str, str, bytes]]],
    videos: tuple[list[Hostile], list[tuple[str, str, bytes]]],
) -> list[Hostile]:
    path_seed = seed_value * 1000 + ALL_PATHS.index(path)
    if path in PHOTO_PATHS:
        return list(corpus("photo", count, path_seed, hand_made=photos[0], bases=photos[1]))
    if path in VIDEO_PATHS:
        return list(corpus("video", count, path_seed, hand_made=videos[0], bases=videos[1]))
    half = count // 2
    photo_items = list(corpus("photo", count - half, path_seed, hand_made=photos[0],
                              bases=photos[1]))  # fmt: skip
    video_items = list(corpus("video", half, path_seed + 1, hand_made=videos[0], bases=videos[1]))
    mixed = []
    for k in range(max(len(photo_items), len(video_items))):
        mixed += photo_items[k : k + 1] + video_items[k : k + 1]
    return mixed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="hostile files per path")
    parser.add_argument("--paths", default=",".join(ALL_PATHS), help="comma-separated")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--clients", type=int, default=2, help="concurrent client threads")
    parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--timeout", type=float, default=600.0, help="client timeout (s)")
    parser.add_argument(
        "--failures",
        default=str(Path(tempfile.gettempdir()) / "refundguard-hostile-failures"),
        help="where files that caused a 5xx, an error, a slow request or a receiver hit go",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary var dir")
    args = parser.parse_args()
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = sorted(set(paths) - set(ALL_PATHS))
    if unknown:
        parser.error(f"unknown paths: {', '.join(unknown)} (known: {', '.join(ALL_PATHS)})")

    work = Path(tempfile.mkdtemp(prefix="refundguard-hostile-"))
    var_dir = work / "var"
    (var_dir / "tmp").mkdir(parents=True)
    failures = Path(args.failures)
    shutil.rmtree(failures, ignore_errors=True)
    env = app_env(var_dir, args)
    for key in [k for k in os.environ if k.startswith(("DJANGO_", "REFUNDGUARD_", "CELERY_"))]:
        del os.environ[key]
    os.environ.update(env)
    os.environ["TMPDIR"] = str(work)  # this process's own temporary files stay apart
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import requests
    from django.core.management import call_command
    from django.db import connections

    receiver = Receiver()
    log = work / "server.log"
    load_before = os.getloadavg()[0]
    process = None
    wall = time.time()
    try:
        print("building media …", file=sys.stderr, flush=True)
        photo_bases, video_bases = base_photos(), base_videos()
        small_jpeg = photo_bases[0][2]
        small_png = next(b[2] for b in photo_bases if b[0] == "png-rgb")
        mp4 = next(b[2] for b in video_bases if b[0] == "mp4-h264")
        webm = next(b[2] for b in video_bases if b[0] == "webm-vp8")
        photos = (hostile_photos(receiver, small_jpeg, small_png), photo_bases)
        videos = (hostile_videos(receiver, mp4, webm, small_jpeg), video_bases)

        print("migrating and seeding …", file=sys.stderr, flush=True)
        call_command("migrate", verbosity=0)
        seeded = seed(paths, args.count, receiver)
        connections.close_all()

        port = _free_port()
        process = server_start(env, port, args, log)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if requests.get(f"{base}/accounts/login/", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            print("the server did not come up; its log:\n" + log.read_text(errors="replace"))
            return 1
        clients = [Client(base, seeded, args.timeout) for _ in range(max(1, args.clients))]
        probe_path = "api_dispute" if "api_dispute" in paths else paths[0]
        probes = webhook_probes(clients[0], probe_path, receiver)

        results: dict[str, list[Outcome]] = {}
        for path in paths:
            items = items_for(path, args.count, args.seed, photos, videos)
            print(f"{path}: {len(items)} files", file=sys.stderr, flush=True)
            results[path] = run_path(path, items, clients, receiver, failures)
    finally:
        if process is not None:
            server_stop(process)
        time.sleep(1)  # a late connection from a server process would still be counted
        receiver.close()
    elapsed = time.time() - wall
    load_after = os.getloadavg()[0]

    connections.close_all()
    store = storage_report(var_dir / "media", var_dir / "tmp")
    stored = stored_per_path(seeded)
    server = server_log_report(log)

    # --- The table ---------------------------------------------------------------
    print(
        f"Hostile uploads: {args.count} files per path, {len(paths)} paths, seed {args.seed},"
        f" {args.clients} clients, {args.server}"
        f"{f' ({args.web_workers} workers)' if args.server == 'gunicorn' else ''}, SQLite,"
        f" Celery eager, DEBUG on, webhooks to private addresses refused; {elapsed:.0f} s;"
        f" load average {load_before:.1f} before, {load_after:.1f} after ({os.cpu_count()} CPUs)"
    )
    header = (
        f"{'path':<12} {'files':>5} {'reqs':>5} {'stored':>6} {'5xx':>4} {'err':>4}"
        f" {'p95 s':>6} {'max s':>6} {'>10s':>4}  status histogram"
    )
    print(header)
    print("-" * len(header))
    summary: dict[str, Any] = {}
    slowest_overall: list[tuple[float, str, str]] = []
    five_xx: list[Outcome] = []
    errors: list[Outcome] = []
    for path, outcomes in results.items():
        times = [r[2] for o in outcomes for r in o.requests]
        codes = [r[1] for o in outcomes for r in o.requests]
        histogram = Counter(str(o.status) for o in outcomes)
        n5 = sum(1 for c in codes if isinstance(c, int) and c >= 500)
        nerr = sum(1 for c in codes if not isinstance(c, int))
        five_xx += [
            o for o in outcomes if any(isinstance(r[1], int) and r[1] >= 500 for r in o.requests)
        ]
        errors += [o for o in outcomes if any(not isinstance(r[1], int) for r in o.requests)]
        worst = max(
            ((r[2], o.label, o.name) for o in outcomes for r in o.requests),
            default=(0.0, "", ""),
        )
        slowest_overall.append((worst[0], path, worst[1]))
        p95 = _percentile(times, 0.95)
        summary[path] = {
            "files": len(outcomes),
            "requests": len(times),
            "stored": stored.get(path, 0),
            "status": dict(sorted(histogram.items())),
            "5xx": n5,
            "connection_errors": nerr,
            "p95_s": round(p95, 3),
            "max_s": round(worst[0], 3),
            "slowest": worst[1],
            "over_10s": sum(1 for t in times if t > SLOW_SECONDS),
        }
        hist = " ".join(f"{k}:{v}" for k, v in sorted(histogram.items()))
        print(
            f"{path:<12} {len(outcomes):>5} {len(times):>5} {stored.get(path, 0):>6} {n5:>4}"
            f" {nerr:>4} {p95:>6.2f} {worst[0]:>6.2f} {summary[path]['over_10s']:>4}  {hist}"
        )
    print()
    print("slowest request per path:")
    for seconds, path, label in sorted(slowest_overall, reverse=True):
        print(f"  {seconds:7.2f} s  {path:<12} {label}")
    five_xx_kinds: Counter[str] = Counter()
    for o in five_xx:
        five_xx_kinds[f"{_file_kind(o.label)} → {_numbers(o.body)}"] += 1
    if five_xx:
        print("5xx by file kind → exception (from the DEBUG error page):")
    for kind, n in five_xx_kinds.most_common():
        print(f"  {n:>4}  {kind}")
    for o in five_xx[:10]:
        print(f"  5xx: {o.path} {o.label} ({o.name!r})")
    for o in errors[:10]:
        print(f"  connection error: {o.path} {o.label} ({o.name!r}): {o.status}")
    refused = sum(1 for p in probes if p["refused"])
    print()
    print(
        f"webhook SSRF probes (Integrations form): {refused}/{len(probes)} refused;"
        f" accepted: {[p['url'] for p in probes if not p['refused']] or 'none'}"
    )
    print(
        f"loopback receiver (TCP 127.0.0.1/::1:{receiver.port}, UDP {receiver.udp_port}-"
        f"{receiver.udp_port + 1}): {len(receiver.hits)} connections/datagrams"
    )
    for hit in receiver.hits[:10]:
        print(
            f"  {hit['proto']} from {hit['peer']}: {hit['head'][:80]!r} during {hit['in_flight']}"
        )
    orphans = len(store["files_without_row"]) + len(store["rows_without_file"])
    orphans += len(store["partial_without_row"]) + len(store["partial_of_consumed_upload"])
    print(
        f"originals: {store['originals_files']} files, {store['originals_rows']} rows;"
        f" files without a row: {len(store['files_without_row'])},"
        f" rows without a file: {len(store['rows_without_file'])}"
    )
    print(
        f"chunked uploads: {store['partial_files']} partial files"
        f" ({store['unconsumed_uploads']} unconsumed uploads, kept until they expire);"
        f" without a row: {len(store['partial_without_row'])},"
        f" of a consumed upload: {len(store['partial_of_consumed_upload'])}"
    )
    print(
        f"derived folders without an original: {store['derived_dirs_without_original']};"
        f" temporary upload files left: {store['temp_files_left']};"
        f" rows left pending/processing: {store['stuck_pending_or_processing']}"
    )
    print(f"row statuses: {store['statuses']}")
    print(
        f"webhook deliveries (seeded loopback endpoints): {store['webhook_deliveries'] or 'none'}"
    )
    print("most frequent failure reasons on stored rows:")
    for reason, n in store["failure_reasons"]:
        print(f"  {n:>4}  {reason}")
    print(
        f"server log: {server['tracebacks']} tracebacks, {server['error_lines']} ERROR lines,"
        f" worker deaths: {len(server['worker_deaths'])}"
    )
    for kind, n in server["traceback_kinds"]:
        print(f"  {n:>4}  {kind}")
    for kind, frames in server["first_tracebacks"].items():
        print(f"  first traceback of {kind[:90]!r} (library frames left out):")
        for line in frames:
            print(f"    {line.rstrip()[:150]}")
    for line in server["worker_deaths"]:
        print(f"  {line}")
    total_5xx = sum(s["5xx"] for s in summary.values())
    total_errors = sum(s["connection_errors"] for s in summary.values())
    slowest = max((s["max_s"] for s in summary.values()), default=0.0)
    delivered = store["webhook_deliveries"].get("succeeded", 0)
    met = (
        total_5xx == 0
        and total_errors == 0
        and slowest <= SLOW_SECONDS
        and orphans == 0
        and not receiver.hits
        and refused == len(probes)
        and delivered == 0
        and store["temp_files_left"] == 0
    )
    print(
        f"target (no 5xx, no connection error, slowest ≤ {SLOW_SECONDS:g} s, no orphan,"
        f" 0 receiver hits, every webhook probe refused): {'MET' if met else 'NOT MET'}"
    )
    if failures.exists():
        print(f"files behind a 5xx / error / slow request / receiver hit: {failures}")
    print(
        json.dumps(
            {
                "count_per_path": args.count,
                "seed": args.seed,
                "seconds": round(elapsed),
                "load_average": [round(load_before, 1), round(load_after, 1)],
                "paths": summary,
                "5xx": total_5xx,
                "5xx_by_kind": dict(five_xx_kinds.most_common()),
                "connection_errors": total_errors,
                "slowest_s": slowest,
                "orphans": orphans,
                "files_without_row": len(store["files_without_row"]),
                "rows_without_file": len(store["rows_without_file"]),
                "partial_without_row": len(store["partial_without_row"]),
                "temp_files_left": store["temp_files_left"],
                "stuck_rows": store["stuck_pending_or_processing"],
                "receiver_hits": len(receiver.hits),
                "webhook_probes": len(probes),
                "webhook_probes_refused": refused,
                "webhook_probes_accepted": [p["url"] for p in probes if not p["refused"]],
                "webhook_deliveries_succeeded": delivered,
                "server_tracebacks": server["tracebacks"],
                "worker_deaths": len(server["worker_deaths"]),
                "target_met": met,
            },
            ensure_ascii=False,
        )
    )
    if args.keep:
        print(f"kept: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if met else 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    raise SystemExit(main())
