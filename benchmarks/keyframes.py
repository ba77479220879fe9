"""Benchmark: keyframe extraction from a 60-second 1080p packing video, on one core.

Encodes a synthetic phone-style video with PyAV (H.264/libx264, 1920x1080, 30 fps, GOP
60, yuv420p, MP4) whose picture is a slow, handheld-like pan and zoom over a mosaic of the
colour photographs shipped inside scikit-image, with a little seeded luma grain so it is
not trivially compressible. The file lives in a temporary directory that is removed
afterwards. On one CPU, in interleaved rounds on the same file, it then times:

- the floor: the same key-frame packets (same spacing and per-minute cap) demuxed and
  decoded by FFmpeg reading the file itself, and nothing else (no RGB, no scaling);
- ``forensics.keyframes.extract_keyframes(path, per_minute=20, min_spacing_seconds=2.0)``
  (iterator fully consumed: RGB stills, long side 1280 px);
- for information, the production-like path of ``evidence.services.video_process`` (each
  keyframe also saved as a quality-90 JPEG and fingerprinted).

Targets: extraction takes under 5% of the video's duration (wall clock) and at most 1.5x
the floor (CPU time of this process, median of the per-round ratios; the wall-clock ratio
is printed beside it).

Run from the repository root::

    .venv/bin/python benchmarks/keyframes.py [--duration 60] [--repeats 5] [--seed 12345]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# benchmarks/queue.py would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import cv2
import numpy as np
import skimage
import skimage.data
from PIL import Image

from forensics.fingerprints import fingerprint_image, fit_for_analysis, thumbnail_jpeg
from forensics.keyframes import extract_keyframes

WIDTH, HEIGHT = 1920, 1080
PER_MINUTE = 20
MIN_SPACING_SECONDS = 2.0
TARGET_PERCENT = 5.0
TARGET_RATIO = 1.5  # extraction over the keyframe-only decode
MOSAIC_PHOTOS: tuple[str, ...] = ("astronaut", "coffee", "chelsea", "rocket")
TILE_W, TILE_H = 1920, 1440  # each photo's tile; the mosaic is 2x2 tiles (3840x2880)
GRAIN_POOL = 16


@dataclass(frozen=True)
class VideoFacts:
    """What the generated video turned out to be."""

    duration_seconds: float
    frames: int
    key_packets: int
    size_mb: float
    bitrate_mbps: float
    encode_seconds: float


@dataclass(frozen=True)
class Timing:
    """One measured path: keyframes it produced, median wall-clock and CPU seconds, and
    the medians of its per-round ratios to the floor measured in the same round."""

    label: str
    keyframes: int
    seconds: float
    cpu_seconds: float
    percent_of_duration: float
    over_floor: float  # CPU time: what other processes on the machine disturb least
    wall_over_floor: float


def _mosaic() -> np.ndarray:
    """A 2x2 RGB mosaic of scikit-image photos, each cropped to 4:3 and upscaled."""
    tiles = []
    for name in MOSAIC_PHOTOS:
        array = np.ascontiguousarray(getattr(skimage.data, name)()[..., :3], dtype=np.uint8)
        h, w = array.shape[:2]
        cw, ch = (h * 4 // 3, h) if w * 3 >= h * 4 else (w, w * 3 // 4)
        x, y = (w - cw) // 2, (h - ch) // 2
        tile = Image.fromarray(array[y : y + ch, x : x + cw]).resize(
            (TILE_W, TILE_H), Image.Resampling.LANCZOS
        )
        tiles.append(np.asarray(tile))
    return np.vstack([np.hstack(tiles[:2]), np.hstack(tiles[2:])])


def _view(t: float, canvas_w: int, canvas_h: int) -> np.ndarray:
    """The 2x3 affine matrix mapping the mosaic to the frame at time ``t`` (seconds)."""
    zoom = 1.2 + 0.6 * math.sin(2 * math.pi * t / 17.0)  # window = zoom x frame size
    win_w, win_h = WIDTH * zoom, HEIGHT * zoom
    span_x, span_y = canvas_w - win_w, canvas_h - win_h
    cx = win_w / 2 + span_x * (0.5 + 0.5 * math.sin(2 * math.pi * t / 23.0))
    cy = win_h / 2 + span_y * (0.5 + 0.5 * math.sin(2 * math.pi * t / 13.0 + 1.0))
    # A small handheld wobble on top of the slow pan.
    cx += 6.0 * math.sin(2 * math.pi * t * 1.3)
    cy += 4.0 * math.sin(2 * math.pi * t * 1.7 + 0.5)
    left, top = cx - win_w / 2, cy - win_h / 2
    scale = 1.0 / zoom
    return np.array([[scale, 0.0, -left * scale], [0.0, scale, -top * scale]], dtype=np.float64)


def make_video(
    path: Path, *, duration: float, fps: int, gop: int, crf: int, grain: float, seed: int
) -> VideoFacts:
    """Encode the benchmark video to ``path`` and describe it."""
    rng = np.random.default_rng(seed)
    canvas = _mosaic()
    canvas_h, canvas_w = canvas.shape[:2]
    pool = []
    for _ in range(GRAIN_POOL):
        noise = rng.standard_normal((HEIGHT, WIDTH), dtype=np.float32) * grain
        plus = np.clip(noise, 0, 255).astype(np.uint8)
        minus = np.clip(-noise, 0, 255).astype(np.uint8)
        pool.append((plus, minus))

    frames = round(duration * fps)
    started = time.perf_counter()
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = WIDTH, HEIGHT
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {"preset": "ultrafast", "crf": str(crf)}
        for index in range(frames):
            rgb = cv2.warpAffine(
                canvas,
                _view(index / fps, canvas_w, canvas_h),
                (WIDTH, HEIGHT),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )
            yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
            plus, minus = pool[int(rng.integers(GRAIN_POOL))]
            luma = yuv[:HEIGHT]
            cv2.subtract(cv2.add(luma, plus), minus, dst=luma)
            frame = av.VideoFrame.from_ndarray(np.asarray(yuv, np.uint8), format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    encode_seconds = time.perf_counter() - started

    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.duration is not None and video.time_base is not None
        seconds = float(video.duration * video.time_base)
        key_packets = sum(
            1 for packet in container.demux(video) if packet.size and packet.is_keyframe
        )
    size = path.stat().st_size
    return VideoFacts(
        duration_seconds=round(seconds, 3),
        frames=frames,
        key_packets=key_packets,
        size_mb=round(size / 1_000_000, 1),
        bitrate_mbps=round(size * 8 / seconds / 1_000_000, 1),
        encode_seconds=round(encode_seconds, 1),
    )


def _keyframe_only_decode(path: Path) -> int:
    """The floor: decode the key frames ``extract_keyframes`` keeps, and do nothing else.

    The same packets are chosen (key frames at least ``MIN_SPACING_SECONDS`` apart, at most
    ``PER_MINUTE`` a minute, by packet timestamp); FFmpeg reads the file itself and the
    decoded YUV frames are dropped: no RGB conversion, no scaling, no image object.
    """
    last_kept: float | None = None
    per_bucket: dict[int, int] = {}
    decoded = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for packet in container.demux(stream):
            if packet.size == 0 or not packet.is_keyframe or packet.pts is None:
                continue
            t = max(0.0, float(packet.pts * packet.time_base))
            bucket = int(t // 60)
            too_close = last_kept is not None and t - last_kept < MIN_SPACING_SECONDS
            if too_close or per_bucket.get(bucket, 0) >= PER_MINUTE:
                continue
            last_kept = t
            per_bucket[bucket] = per_bucket.get(bucket, 0) + 1
            decoded += len(stream.decode(packet))
        decoded += len(stream.decode(None))
    return decoded


def _extract_only(path: Path) -> int:
    """Consume ``extract_keyframes``; return how many keyframes it yielded."""
    return sum(
        1
        for _ in extract_keyframes(
            str(path), per_minute=PER_MINUTE, min_spacing_seconds=MIN_SPACING_SECONDS
        )
    )


def _production_like(path: Path) -> int:
    """As ``video_process`` does: extract, JPEG-encode and fingerprint every keyframe."""
    count = 0
    for keyframe in extract_keyframes(
        str(path), per_minute=PER_MINUTE, min_spacing_seconds=MIN_SPACING_SECONDS
    ):
        thumbnail_jpeg(keyframe.image, side=max(keyframe.image.size), quality=90)
        fingerprint_image(fit_for_analysis(keyframe.image))
        count += 1
    return count


def _time_rounds(
    paths: dict[str, Callable[[], int]], *, repeats: int, duration: float
) -> list[Timing]:
    """Each path run once to warm up, then ``repeats`` rounds in which every path runs
    once (the order rotating each round). On a shared machine the load drifts: a ratio
    taken within one round compares runs made seconds apart, and the process's CPU time
    (decoder threads included) leaves out the time other processes held the core. The
    first path is the floor.
    """
    produced = {label: func() for label, func in paths.items()}
    labels = list(paths)
    wall: dict[str, list[float]] = {label: [] for label in labels}
    cpu: dict[str, list[float]] = {label: [] for label in labels}
    for round_index in range(repeats):
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            paths[label]()
            cpu[label].append(time.process_time() - cpu_start)
            wall[label].append(time.perf_counter() - wall_start)

    def over_floor(samples: dict[str, list[float]], label: str) -> float:
        pairs = zip(samples[label], samples[labels[0]], strict=True)
        return round(statistics.median(s / f for s, f in pairs), 2)

    timings = []
    for label in labels:
        seconds = statistics.median(wall[label])
        timings.append(
            Timing(
                label,
                produced[label],
                round(seconds, 3),
                round(statistics.median(cpu[label]), 3),
                round(100 * seconds / duration, 2),
                over_floor(cpu, label),
                over_floor(wall, label),
            )
        )
    return timings


def pin_to_one_core() -> int:
    """Restrict this process (decoder threads, OpenCV) to a single CPU; return it."""
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    cv2.setNumThreads(1)
    return cpu


def main() -> None:
    """Make the video, time the extraction, print a table and a JSON summary line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="video seconds")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--gop", type=int, default=60, help="key frame interval (frames)")
    parser.add_argument("--crf", type=int, default=23, help="libx264 quality (lower = larger)")
    parser.add_argument("--grain", type=float, default=3.0, help="luma grain sigma (0-255)")
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed rounds, every path once a round (median)"
    )
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    if args.duration <= 0 or args.repeats < 1:
        parser.error("--duration must be positive and --repeats at least 1")

    with tempfile.TemporaryDirectory(prefix="refundguard-bench-") as tmp:
        path = Path(tmp) / "packing.mp4"
        print(
            f"keyframes benchmark: encoding {args.duration:g} s {WIDTH}x{HEIGHT} "
            f"{args.fps} fps H.264 (GOP {args.gop}, crf {args.crf}, ultrafast) ..."
        )
        facts = make_video(
            path,
            duration=args.duration,
            fps=args.fps,
            gop=args.gop,
            crf=args.crf,
            grain=args.grain,
            seed=args.seed,
        )
        cpu = pin_to_one_core()  # encoding may use every core; the measurement uses one
        duration = facts.duration_seconds
        floor, extraction, production = _time_rounds(
            {
                "keyframe-only decode": lambda: _keyframe_only_decode(path),
                "extract_keyframes": lambda: _extract_only(path),
                "+ JPEG q90 + fingerprint": lambda: _production_like(path),
            },
            repeats=args.repeats,
            duration=duration,
        )

    print(
        f"encoded in {facts.encode_seconds:.1f} s; measuring on CPU {cpu}, "
        f"median of {args.repeats} interleaved rounds (file in page cache)"
    )
    print()
    print(f"{'video duration':<28}{facts.duration_seconds:>10.3f} s")
    print(f"{'frames':<28}{facts.frames:>10d}")
    print(f"{'key frames in stream':<28}{facts.key_packets:>10d}")
    print(f"{'file size':<28}{facts.size_mb:>10.1f} MB")
    print(f"{'bitrate':<28}{facts.bitrate_mbps:>10.1f} Mbit/s")
    print()
    header = (
        f"{'path':<26}{'keyframes':>10}{'wall s':>8}{'% of dur.':>11}"
        f"{'CPU s':>8}{'x floor CPU':>13}{'x floor wall':>14}"
    )
    print(header)
    print("-" * len(header))
    for timing in (floor, extraction, production):
        print(
            f"{timing.label:<26}{timing.keyframes:>10d}{timing.seconds:>8.3f}"
            f"{timing.percent_of_duration:>10.2f}%{timing.cpu_seconds:>8.3f}"
            f"{timing.over_floor:>13.2f}{timing.wall_over_floor:>14.2f}"
        )
    if floor.keyframes != extraction.keyframes:
        raise SystemExit(
            f"the floor decoded {floor.keyframes} key frames, extraction {extraction.keyframes}"
        )
    target_met = extraction.percent_of_duration < TARGET_PERCENT
    ratio_met = extraction.over_floor <= TARGET_RATIO
    print()
    print(
        f"target (extraction < {TARGET_PERCENT:g}% of duration): "
        f"{'MET' if target_met else 'NOT MET'} ({extraction.percent_of_duration:.2f}% wall; "
        f"CPU {100 * extraction.cpu_seconds / duration:.2f}%)"
    )
    print(
        f"target (extraction <= {TARGET_RATIO:g}x the keyframe-only decode, CPU time, median "
        f"of per-round ratios): {'MET' if ratio_met else 'NOT MET'} "
        f"({extraction.over_floor:.2f}x; wall {extraction.wall_over_floor:.2f}x)"
    )
    summary = {
        "benchmark": "keyframes",
        "size": [WIDTH, HEIGHT],
        "fps": args.fps,
        "gop": args.gop,
        "crf": args.crf,
        "seed": args.seed,
        "repeats": args.repeats,
        "cpu": cpu,
        "per_minute": PER_MINUTE,
        "min_spacing_seconds": MIN_SPACING_SECONDS,
        "video": {
            "duration_seconds": facts.duration_seconds,
            "frames": facts.frames,
            "key_packets": facts.key_packets,
            "size_mb": facts.size_mb,
            "bitrate_mbps": facts.bitrate_mbps,
        },
        "keyframes_extracted": extraction.keyframes,
        "keyframe_decode_seconds": floor.seconds,
        "keyframe_decode_cpu_seconds": floor.cpu_seconds,
        "keyframe_decode_cpu_percent": round(100 * floor.cpu_seconds / duration, 2),
        "keyframe_decode_percent": floor.percent_of_duration,
        "extraction_seconds": extraction.seconds,
        "extraction_cpu_seconds": extraction.cpu_seconds,
        "extraction_cpu_percent": round(100 * extraction.cpu_seconds / duration, 2),
        "extraction_percent": extraction.percent_of_duration,
        "extraction_over_decode": extraction.over_floor,
        "extraction_over_decode_wall": extraction.wall_over_floor,
        "production_like_seconds": production.seconds,
        "production_like_cpu_seconds": production.cpu_seconds,
        "production_like_percent": production.percent_of_duration,
        "production_like_over_decode": production.over_floor,
        "target_percent": TARGET_PERCENT,
        "target_met": target_met,
        "target_ratio": TARGET_RATIO,
        "ratio_target_met": ratio_met,
        "versions": {
            "av": av.__version__,
            "ffmpeg": ".".join(str(part) for part in av.library_versions["libavcodec"]),
            "scikit-image": getattr(skimage, "__version__", "?"),
        },
    }
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
