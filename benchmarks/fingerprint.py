"""Benchmark: fingerprinting a 12-megapixel phone photo, on one core.

Compares plain ``imagehash.phash(Image.open(path))`` (full-size decode) with our path
(``forensics.fingerprints.load_analysis_image``: JPEG draft-mode decode, then hashes),
both the hashes-only path and the full ``fingerprint_image`` (pHash + dHash + ORB).

Target: our hashes path is at least 4x faster than plain imagehash on every image, and
its pHash differs from plain imagehash's by at most 2 bits on every image.

The test photos are built from the colour photographs shipped inside scikit-image,
upscaled to 4000x3000 with a little seeded sensor noise and saved as quality-92 JPEGs in
a temporary directory that is removed afterwards.

Run from the repository root::

    .venv/bin/python benchmarks/fingerprint.py [--count 8] [--repeats 5] [--seed 12345]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

# benchmarks/queue.py would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import imagehash
import numpy as np
import skimage
import skimage.data
from PIL import Image

from forensics.fingerprints import (
    fingerprint_image,
    library_versions,
    load_analysis_image,
    perceptual_hashes,
)

WIDTH, HEIGHT = 4000, 3000
MAX_PIXELS = 60_000_000
TARGET_SPEEDUP = 4.0
TARGET_MAX_BITS = 2

# Colour photographs bundled with scikit-image (no download needed).
SOURCE_PHOTOS: tuple[str, ...] = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "stereo_motorcycle",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
)


@dataclass(frozen=True)
class ImageResult:
    """Timings (median milliseconds) and hash agreement for one test photo."""

    name: str
    file_mb: float
    plain_ms: float
    hashes_ms: float
    full_ms: float
    speedup_hashes: float
    speedup_full: float
    phash_bits_differ: int


def _source_array(name: str) -> np.ndarray:
    """An RGB uint8 array of a scikit-image sample photo."""
    data = getattr(skimage.data, name)()
    if isinstance(data, tuple):  # stereo_motorcycle returns (left, right, disparity)
        data = data[0]
    return np.ascontiguousarray(data[..., :3], dtype=np.uint8)


def _crop_4_3(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 4:3 landscape crop of ``array`` at a slightly random position."""
    h, w = array.shape[:2]
    if w * 3 >= h * 4:
        cw, ch = h * 4 // 3, h
    else:
        cw, ch = w, w * 3 // 4
    # Use 90-100% of the largest 4:3 window so every photo is cropped a little differently.
    shrink = rng.uniform(0.9, 1.0)
    cw, ch = max(4, int(cw * shrink)), max(3, int(ch * shrink))
    x = int(rng.integers(0, w - cw + 1))
    y = int(rng.integers(0, h - ch + 1))
    return array[y : y + ch, x : x + cw]


def make_phone_jpeg(
    name: str, path: Path, *, rng: np.random.Generator, quality: int, noise_sigma: float
) -> None:
    """Write a 4000x3000 phone-style JPEG derived from a scikit-image photo to ``path``."""
    crop = _crop_4_3(_source_array(name), rng)
    big = Image.fromarray(crop).resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    pixels = np.asarray(big, dtype=np.float32)
    noise = rng.standard_normal(pixels.shape, dtype=np.float32) * noise_sigma
    noisy = np.clip(pixels + noise, 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x010F] = "RefundGuard"  # Make
    exif[0x0110] = "Benchmark Phone"  # Model
    exif[0x0112] = 1  # Orientation: as stored
    Image.fromarray(noisy).save(path, "JPEG", quality=quality, exif=exif.tobytes())


def _median_ms(func: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``func`` in milliseconds, after one warm-up call."""
    func()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _plain_phash(path: Path) -> imagehash.ImageHash:
    """Plain imagehash on the full-size decode."""
    with Image.open(path) as image:
        return imagehash.phash(image)


def _our_hashes(path: Path) -> bytes:
    """Our pHash (packed bytes) via the draft-mode analysis decode."""
    with path.open("rb") as fh:
        hashes = perceptual_hashes(load_analysis_image(fh, max_pixels=MAX_PIXELS))
    return next(f.value for f in hashes if f.algorithm == "phash")


def _our_full(path: Path) -> bytes:
    """Every fingerprint (pHash, dHash, ORB); returns the pHash bytes."""
    with path.open("rb") as fh:
        prints = fingerprint_image(load_analysis_image(fh, max_pixels=MAX_PIXELS))
    return next(f.value for f in prints if f.algorithm == "phash")


def _bits_differ(plain: imagehash.ImageHash, ours: bytes) -> int:
    """Hamming distance between an imagehash pHash and our packed pHash bytes."""
    plain_bytes = np.packbits(np.asarray(plain.hash, dtype=bool).flatten())
    ours_bytes = np.frombuffer(ours, dtype=np.uint8)
    return int(np.unpackbits(plain_bytes ^ ours_bytes).sum())


def measure(path: Path, name: str, *, repeats: int) -> ImageResult:
    """Time the three paths on one file and compare their pHashes."""
    plain_ms = _median_ms(lambda: _plain_phash(path), repeats)
    hashes_ms = _median_ms(lambda: _our_hashes(path), repeats)
    full_ms = _median_ms(lambda: _our_full(path), repeats)
    ours = _our_hashes(path)
    if ours != _our_full(path):
        raise AssertionError(f"{name}: hashes-only and full paths disagree on pHash")
    return ImageResult(
        name=name,
        file_mb=round(path.stat().st_size / 1_000_000, 2),
        plain_ms=round(plain_ms, 1),
        hashes_ms=round(hashes_ms, 1),
        full_ms=round(full_ms, 1),
        speedup_hashes=round(plain_ms / hashes_ms, 2),
        speedup_full=round(plain_ms / full_ms, 2),
        phash_bits_differ=_bits_differ(_plain_phash(path), ours),
    )


def pin_to_one_core() -> int:
    """Restrict this process (and OpenCV) to a single CPU; return the CPU used."""
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    cv2.setNumThreads(1)
    return cpu


def _print_table(results: list[ImageResult]) -> None:
    header = (
        f"{'image':<22}{'MB':>6}{'plain ms':>10}{'hashes ms':>11}{'full ms':>9}"
        f"{'x hashes':>10}{'x full':>8}{'bits':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:<22}{r.file_mb:>6.2f}{r.plain_ms:>10.1f}{r.hashes_ms:>11.1f}"
            f"{r.full_ms:>9.1f}{r.speedup_hashes:>10.2f}{r.speedup_full:>8.2f}"
            f"{r.phash_bits_differ:>6d}"
        )


def main() -> None:
    """Build the test photos, time every path, print a table and a JSON summary line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=8, help="number of test photos")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per path (median)")
    parser.add_argument("--seed", type=int, default=12345, help="seed for crops and noise")
    parser.add_argument("--quality", type=int, default=92, help="JPEG quality of test photos")
    parser.add_argument("--noise", type=float, default=3.0, help="sensor noise sigma (0-255)")
    args = parser.parse_args()
    if args.count < 1 or args.repeats < 1:
        parser.error("--count and --repeats must be at least 1")

    cpu = pin_to_one_core()
    rng = np.random.default_rng(args.seed)
    print(
        f"fingerprint benchmark: {args.count} x {WIDTH}x{HEIGHT} JPEG q{args.quality}, "
        f"median of {args.repeats} runs, pinned to CPU {cpu}, cv2 threads "
        f"{cv2.getNumThreads()}"
    )
    results: list[ImageResult] = []
    with tempfile.TemporaryDirectory(prefix="refundguard-bench-") as tmp:
        for index in range(args.count):
            source = SOURCE_PHOTOS[index % len(SOURCE_PHOTOS)]
            label = source if index < len(SOURCE_PHOTOS) else f"{source}#{index}"
            path = Path(tmp) / f"IMG_{index:04d}.jpg"
            make_phone_jpeg(source, path, rng=rng, quality=args.quality, noise_sigma=args.noise)
            results.append(measure(path, label, repeats=args.repeats))

    print()
    _print_table(results)
    plain_median = statistics.median(r.plain_ms for r in results)
    hashes_median = statistics.median(r.hashes_ms for r in results)
    full_median = statistics.median(r.full_ms for r in results)
    min_speedup_hashes = min(r.speedup_hashes for r in results)
    min_speedup_full = min(r.speedup_full for r in results)
    max_bits = max(r.phash_bits_differ for r in results)
    target_met = min_speedup_hashes >= TARGET_SPEEDUP and max_bits <= TARGET_MAX_BITS
    full_meets_speed = min_speedup_full >= TARGET_SPEEDUP
    print()
    print(
        f"median ms: plain {plain_median:.1f}, hashes {hashes_median:.1f}, full {full_median:.1f}"
    )
    print(
        f"speed-up plain/hashes: min {min_speedup_hashes:.2f}x, "
        f"median {plain_median / hashes_median:.2f}x"
    )
    print(
        f"speed-up plain/full:   min {min_speedup_full:.2f}x, "
        f"median {plain_median / full_median:.2f}x"
    )
    print(f"max pHash bits differing: {max_bits}")
    print(
        f"target (hashes path >= {TARGET_SPEEDUP:.0f}x faster and <= {TARGET_MAX_BITS} bits "
        f"on every image): {'MET' if target_met else 'NOT MET'}"
    )
    print(
        f"full path (hashes + ORB) >= {TARGET_SPEEDUP:.0f}x faster on every image: "
        f"{'yes' if full_meets_speed else 'no'}"
    )
    summary = {
        "benchmark": "fingerprint",
        "count": args.count,
        "size": [WIDTH, HEIGHT],
        "quality": args.quality,
        "repeats": args.repeats,
        "seed": args.seed,
        "cpu": cpu,
        "median_ms": {"plain": plain_median, "hashes": hashes_median, "full": full_median},
        "min_speedup": {"hashes": min_speedup_hashes, "full": min_speedup_full},
        "max_phash_bits_differ": max_bits,
        "target": {"speedup": TARGET_SPEEDUP, "max_bits": TARGET_MAX_BITS},
        "target_met": target_met,
        "full_path_meets_speedup": full_meets_speed,
        "versions": {**library_versions(), "scikit-image": skimage.__version__},
        "images": [asdict(r) for r in results],
    }
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
