"""Probe packing videos and extract their keyframes with PyAV. Pure: no Django.

Only key frames are decoded (the decoder skips every other frame), then thinned to a
minimum spacing and a cap per minute, so a long 1080p video costs a small fraction of
its duration. Each still is scaled and converted to RGB in one libswscale pass, so
extraction costs little more than decoding the chosen key frames
(``benchmarks/keyframes.py`` measures both).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import av
import av.error
from av.video.reformatter import Interpolation, VideoReformatter
from PIL import Image

from forensics.errors import MediaRejected

# Demuxer names FFmpeg reports for the containers we accept.
VIDEO_CONTAINERS: dict[str, tuple[str, str]] = {
    "mov,mp4,m4a,3gp,3g2,mj2": ("video/mp4", "mp4"),
    "matroska,webm": ("video/x-matroska", "mkv"),
}
# The demuxer each sniffed container is opened with → its name in VIDEO_CONTAINERS.
_DEMUXERS = {"mov": "mov,mp4,m4a,3gp,3g2,mj2", "matroska": "matroska,webm"}
KEYFRAME_SIDE = 1280
# libswscale's bilinear filter widens with the reduction (it is anti-aliased, unlike
# FAST_BILINEAR). On the 20 stills of benchmarks/keyframes.py it keeps pHash/dHash within
# 2 bits (19 of 20 identical) and ~93 % of the ORB keypoints of the former Lanczos resize
# of the full RGB frame (a quality-90 JPEG re-save keeps ~94 %), at a fraction of its cost.
_STILL_INTERPOLATION = Interpolation.BILINEAR

logging.getLogger("libav").setLevel(logging.ERROR)


@dataclass(frozen=True)
class VideoInfo:
    """What the content of a video file says it is."""

    container: str
    mime: str
    extension: str
    codec: str
    width: int
    height: int
    duration_seconds: float


@dataclass(frozen=True)
class Keyframe:
    """A still taken from a video at ``t_seconds``."""

    t_seconds: float
    image: Image.Image


_AV_ERRORS: tuple[type[BaseException], ...] = (av.error.FFmpegError, OSError, ValueError, EOFError)

# The first box of an ISO-BMFF (MP4) or QuickTime file, at byte 4. QuickTime files older
# than the ``ftyp`` box start with one of the others.
_MP4_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # Matroska and WebM
_PROBE_BUFFER = 256 * 1024
_NOT_A_VIDEO = "This file is not a video we can read (MP4, MOV, WebM or MKV are accepted)."


def sniff_container(head: bytes) -> str:
    """The FFmpeg demuxer for a file's first bytes, or ``MediaRejected``.

    Only MP4/MOV and Matroska/WebM signatures pass, so playlists (HLS, ``concat``,
    ``ffconcat``), SDP sessions and other demuxers that open further URLs never run.
    """
    if len(head) >= 8 and head[4:8] in _MP4_FIRST_BOXES:
        return "mov"
    if head.startswith(_EBML_MAGIC):
        return "matroska"
    raise MediaRejected(_NOT_A_VIDEO)


def _refuse_nested_open(url: str, flags: int, options: dict[str, Any]) -> Any:
    # No demuxer we allow needs a second resource; a file that asks for one is refused.
    raise MediaRejected("The video refers to other files or addresses; it was refused.")


@contextmanager
def _opened(source: str | IO[bytes] | Any) -> Iterator[av.container.InputContainer]:
    """An upload opened for reading with a demuxer chosen from its bytes.

    FFmpeg only ever sees a Python byte reader (never a path or URL it could
    interpret), the demuxer is forced to the sniffed one, QuickTime external data
    references stay off, and any nested open is refused.
    """
    with ExitStack() as stack:
        stream: IO[bytes] = (
            stack.enter_context(Path(source).open("rb")) if isinstance(source, str) else source
        )
        stream.seek(0)
        demuxer = sniff_container(stream.read(16))
        stream.seek(0)
        try:
            container = av.open(
                stream,
                mode="r",
                format=demuxer,
                container_options={"enable_drefs": "0", "protocol_whitelist": "none"},
                metadata_errors="ignore",
                buffer_size=_PROBE_BUFFER,
                io_open=_refuse_nested_open,
            )
        except _AV_ERRORS:
            raise MediaRejected(_NOT_A_VIDEO) from None
        stack.callback(container.close)
        yield container


def probe_video(source: str | IO[bytes] | Any, *, max_seconds: float) -> VideoInfo:
    """Identify a video by content and decode its first frame to prove it is playable."""
    with _opened(source) as container:
        format_name = _check_container(container)
        stream = container.streams.video[0]
        # A damaged header can name a codec FFmpeg has no decoder for (found by fuzzing).
        if stream.codec_context is None:
            raise MediaRejected("The video's codec is unknown or the file is damaged.")
        codec = stream.codec_context.name
        duration = _duration_seconds(container, stream)
        if duration <= 0:
            raise MediaRejected("The video has no duration; it may be damaged.")
        if duration > max_seconds:
            raise MediaRejected(
                f"The video lasts {_clock(duration)}; the limit is {_clock(max_seconds)}."
            )
        try:
            first = next(container.decode(stream), None)
        except _AV_ERRORS:
            raise MediaRejected(
                "The video could not be decoded; the file may be damaged."
            ) from None
        if first is None:
            raise MediaRejected("No picture could be decoded from the video.")
        mime, extension = VIDEO_CONTAINERS[format_name]
        if format_name == "matroska,webm" and codec in {"vp8", "vp9", "av1"}:
            mime, extension = "video/webm", "webm"
        return VideoInfo(
            container=format_name,
            mime=mime,
            extension=extension,
            codec=codec,
            width=first.width,
            height=first.height,
            duration_seconds=round(duration, 3),
        )


def _check_container(container: av.container.InputContainer) -> str:
    """The container's format name, if it is on the allow-list and has a video track."""
    format_name = _DEMUXERS.get(container.format.name, container.format.name)
    if format_name not in VIDEO_CONTAINERS:
        raise MediaRejected(
            f"Video container '{format_name}' is not accepted (MP4, MOV, WebM or MKV)."
        )
    if not container.streams.video:
        raise MediaRejected("The file has no video track.")
    return format_name


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _duration_seconds(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / av.time_base)
    return 0.0


def still_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size of a ``width`` × ``height`` picture with its long side at most ``max_side``
    (aspect ratio kept, never enlarged)."""
    scale = max_side / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass
class _StillScaler:
    """libswscale contexts reused from one key frame to the next (they are rebuilt only
    when the frame's size or format changes)."""

    scale: VideoReformatter
    to_rgb: VideoReformatter

    @classmethod
    def new(cls) -> _StillScaler:
        """Fresh contexts for one video."""
        return cls(VideoReformatter(), VideoReformatter())


def _rgb_still(scaler: _StillScaler, frame: av.VideoFrame, max_side: int) -> Image.Image:
    """The decoded frame as an RGB image, long side at most ``max_side``.

    Two libswscale passes, both cheaper than one: the frame is scaled in its own pixel
    format, range and colour space (a pure resize of the YUV planes), then converted to
    RGB at the small size, where an 8-bit 4:2:0 frame takes libswscale's SIMD converter
    (a scale and RGB output in one pass runs generic code per output pixel: ~1.5× the
    time of both passes). Threads stay at one: a worker process already uses its core.
    The image is filled straight from the RGB plane's rows (one copy, padding skipped).
    """
    width, height = still_size(frame.width, frame.height, max_side)
    if (width, height) != (frame.width, frame.height):
        frame = scaler.scale.reformat(
            frame,
            width=width,
            height=height,
            interpolation=_STILL_INTERPOLATION,
            dst_color_range=frame.color_range,
            threads=1,
        )
    rgb = scaler.to_rgb.reformat(frame, format="rgb24", threads=1)
    plane = rgb.planes[0]
    return Image.frombytes(
        "RGB", (plane.width, plane.height), memoryview(plane), "raw", "RGB", plane.line_size, 1
    )


def extract_keyframes(
    source: str | IO[bytes] | Any,
    *,
    per_minute: int,
    min_spacing_seconds: float,
    max_side: int = KEYFRAME_SIDE,
) -> Iterator[Keyframe]:
    """Yield stills at key frames, at least ``min_spacing_seconds`` apart and at most
    ``per_minute`` in any minute of the video. Raises ``MediaRejected`` on bad input.

    Key-frame packets are chosen from the demuxer's flags before anything is decoded
    (some decoders, VP9's among them, ignore ``skip_frame``), so only the chosen stills
    are ever decoded.
    """
    with _opened(source) as container:
        _check_container(container)
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        last_kept: float | None = None
        per_bucket: dict[int, int] = {}
        produced = 0

        def chosen(t: float) -> bool:
            nonlocal last_kept
            if last_kept is not None and t - last_kept < min_spacing_seconds:
                return False
            bucket = int(t // 60)
            if per_bucket.get(bucket, 0) >= per_minute:
                return False
            last_kept = t
            per_bucket[bucket] = per_bucket.get(bucket, 0) + 1
            return True

        scaler = _StillScaler.new()

        def still(frame: av.VideoFrame, t: float) -> Keyframe:
            return Keyframe(t_seconds=round(t, 3), image=_rgb_still(scaler, frame, max_side))

        # Each decoded key frame belongs to the next chosen packet, in order; the
        # packet's own timestamp is used because a decoder that only sees key frames
        # cannot reorder timestamps the way it would for the full stream.
        times: deque[float] = deque()
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or not packet.is_keyframe or packet.pts is None:
                    continue
                t = max(0.0, float(packet.pts * packet.time_base))
                if not chosen(t):
                    continue
                times.append(t)
                for frame in stream.decode(packet):
                    if times:
                        produced += 1
                        yield still(frame, times.popleft())
            for frame in stream.decode(None):  # frames the decoder still holds
                if times:
                    produced += 1
                    yield still(frame, times.popleft())
        except _AV_ERRORS:
            raise MediaRejected(
                "The video could not be decoded; the file may be damaged."
            ) from None
        if produced == 0:
            raise MediaRejected("No key frame could be decoded from the video.")
