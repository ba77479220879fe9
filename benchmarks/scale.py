"""The index of originals at scale: build, extend, memory and claim time (issue 22).

Generates ``--originals`` distinct textured scenes per merchant (512×384 to 512×512,
seeded: shapes, strokes, printed text and grain over a smooth background), fingerprints
them with the product's ``forensics.fingerprints.fingerprint_image`` (cached under
``--cache`` so a larger run reuses a smaller one's), builds and persists each merchant's
index with the product's ``forensics.original_index.stored_segment`` (what the
``original_index_extend`` task stores), then serves 12-megapixel JPEG claims in a fresh
process that loads the stored segments as a worker does (``read_segment`` memory-maps
them; ``OriginalIndexCache`` bounds them by bytes) and runs
``forensics.pipeline.analyse_claim``, the workers' analysis. Half the claims are edited
copies of a random original (cropped, upscaled to 12 MP, a patch painted, brightness and
contrast shifted, re-saved as JPEG); half are scenes no merchant has. With several
merchants, claims go to the merchants in turn.

The last line is one JSON object: originals, merchants, index_build_s, index_add_ms (one
new photo fingerprinted values → segment → stored → loaded and appended by the serving
process), worker_rss_mb (peak RSS of the serving process), claim_ms_mean, claim_ms_p95,
recall (copies whose analysis named the right original as edited), false_matches.

    nice -n 19 .venv/bin/python benchmarks/scale.py --originals 1000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import multiprocessing
import os
import pickle
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from statistics import NormalDist
from typing import Any

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):  # one core, FAISS included
    os.environ.setdefault(_name, "1")

import cv2
import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

cv2.setNumThreads(1)  # one core: the fingerprinting pool's processes and the server

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forensics.fingerprints import ALGORITHM_VERSIONS, fingerprint_image, fit_for_analysis
from forensics.index_segments import SegmentEntry, read_segment, segment_bytes
from forensics.original_index import (
    OriginalIndex,
    OriginalIndexCache,
    stored_segment,
)

CHUNK = 1000  # originals per fingerprint cache file
ADDED_BASE = 1_900_000_000  # the seed of the photo added to a built index
UNRELATED_BASE = 2_000_000_000  # seeds of the scenes no merchant has
#: Bumped whenever ``scene`` draws differently: the fingerprint cache is kept per version.
SCENE_VERSION = 2
#: PIL's ImageFilter.SMOOTH, applied by OpenCV.
SMOOTH_KERNEL = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], np.float32) / 13
#: Gaussian grain (σ 4) from one random byte a pixel: the inverse CDF at 256 steps.
GRAIN = np.array([round(NormalDist(0, 4).inv_cdf((i + 0.5) / 256)) for i in range(256)], np.int16)
WORDS = [
    "MUG",
    "LAMP",
    "BOWL",
    "SOAP",
    "TEA",
    "OIL",
    "KIT",
    "BAG",
    "BOX",
    "CUP",
    "JAR",
    "PAN",
    "RUG",
    "TOY",
    "HAT",
    "PEN",
]


def scene(seed: int) -> Image.Image:
    """A distinct textured scene, as an RGB image between 512×384 and 512×512.

    Version 2 (``SCENE_VERSION``): the same shapes, strokes and text as version 1, with
    the background, smoothing and grain done by OpenCV and a byte table (3.9 ms a scene
    instead of 8.7 ms here; fingerprints as large), so the million scenes of the 1,000 ×
    1,000 run take 75 minutes of two cores rather than two hours."""
    rng = np.random.default_rng(seed)
    w, h = 512, int(rng.integers(384, 513))
    if rng.random() < 0.5:
        w, h = h, w
    grid = rng.integers(40, 216, (3, 4, 3)).astype(np.uint8)
    image = Image.fromarray(cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(25, 45))):
        x0, y0 = int(rng.integers(-40, w)), int(rng.integers(-40, h))
        x1, y1 = x0 + int(rng.integers(12, 160)), y0 + int(rng.integers(12, 160))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        outline = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = rng.integers(0, 4)
        if shape == 0:
            draw.rectangle((x0, y0, x1, y1), fill=fill, outline=outline, width=2)
        elif shape == 1:
            draw.ellipse((x0, y0, x1, y1), fill=fill, outline=outline, width=2)
        elif shape == 2:
            pts = [(int(rng.integers(x0, x1)), int(rng.integers(y0, y1))) for _ in range(5)]
            draw.polygon(pts, fill=fill, outline=outline)
        else:
            draw.line((x0, y0, x1, y1), fill=fill, width=int(rng.integers(1, 6)))
    for _ in range(int(rng.integers(2, 6))):
        text = " ".join(rng.choice(WORDS, int(rng.integers(1, 4)))) + f" {rng.integers(1, 999)}"
        xy = (int(rng.integers(0, w - 60)), int(rng.integers(0, h - 20)))
        size = float(rng.integers(14, 40))
        draw.text(xy, text, fill=tuple(int(v) for v in rng.integers(0, 256, 3)), font_size=size)
    array = cv2.filter2D(np.asarray(image), cv2.CV_16S, SMOOTH_KERNEL)
    grain = GRAIN[np.frombuffer(rng.bytes(h * w), np.uint8).reshape(h, w, 1)]
    return Image.fromarray(np.clip(array + grain, 0, 255).astype(np.uint8), "RGB")


def _fingerprint_chunk(job: tuple[int, Path]) -> Path:
    chunk, folder = job
    path = folder / f"c{chunk}.pkl"
    if path.exists():
        return path
    rows = []
    for seed in range(chunk * CHUNK, (chunk + 1) * CHUNK):
        analysis = fit_for_analysis(scene(seed))
        values = {f.algorithm: f.value for f in fingerprint_image(analysis)}
        rows.append((seed, analysis.size, values))
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(rows))
    tmp.rename(path)
    return path


def fingerprints(
    merchants: int, count: int, cache: Path, workers: int
) -> Iterator[list[SegmentEntry]]:
    """Each merchant's ``count`` originals as its index is built from them, merchant by
    merchant (only one merchant's fingerprints are held at a time: a million would not
    fit): merchant m has the scenes ``m * count`` to ``(m + 1) * count - 1``, so every
    run's originals are distinct and one run's cache serves another with as many in all
    (100 × 1,000 and 100,000 × 1 fingerprint the same scenes)."""
    versions = sorted({**ALGORITHM_VERSIONS, "scene": SCENE_VERSION}.items())
    folder = cache / ("v" + "-".join(f"{k}{v}" for k, v in versions))
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(c, folder) for c in range(math.ceil(merchants * count / CHUNK))]
    with contextlib.ExitStack() as stack:
        if workers > 1:
            pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(workers))
            paths: Iterable[Path] = pool.imap(_fingerprint_chunk, jobs)
        else:
            paths = map(_fingerprint_chunk, jobs)
        merchant = 0
        found: list[SegmentEntry] = []
        for path in tqdm(paths, total=len(jobs), unit="k"):
            for seed, size, values in pickle.loads(path.read_bytes()):
                if seed // count != merchant:
                    yield found
                    merchant, found = seed // count, []
                if merchant >= merchants:
                    return
                found.append(
                    SegmentEntry(
                        f"photo:{seed}",
                        values,
                        full_size=size,
                        label=f"scene {seed}",
                        source=f"scene:{seed}",
                    )
                )
        if found:
            yield found


def load_scene(source: str) -> Image.Image:
    """The loader the serving process gives its indexes: the scene, decoded for analysis."""
    return fit_for_analysis(scene(int(source.split(":", 1)[1])))


def claim_jpeg(image: Image.Image, rng: np.random.Generator, *, edit: bool) -> bytes:
    """A 12-megapixel phone-style JPEG of ``image``: for a copy, cropped, a patch painted,
    every second one turned by up to 8°, brightness and contrast shifted."""
    if edit:
        w, h = image.size
        keep_w, keep_h = rng.uniform(0.75, 1.0), rng.uniform(0.75, 1.0)
        x0 = int(rng.uniform(0, 1 - keep_w) * w)
        y0 = int(rng.uniform(0, 1 - keep_h) * h)
        image = image.crop((x0, y0, x0 + int(keep_w * w), y0 + int(keep_h * h)))
        draw = ImageDraw.Draw(image)
        pw, ph = (
            int(image.width * rng.uniform(0.12, 0.25)),
            int(image.height * rng.uniform(0.12, 0.25)),
        )
        px, py = int(rng.integers(0, image.width - pw)), int(rng.integers(0, image.height - ph))
        draw.ellipse(
            (px, py, px + pw, py + ph), fill=tuple(int(v) for v in rng.integers(0, 256, 3))
        )
        if rng.random() < 0.5:  # turned a little, the corners filled as an editor does
            image = image.rotate(
                float(rng.uniform(-8, 8)), Image.Resampling.BICUBIC, fillcolor=(255, 255, 255)
            )
        array = np.asarray(image, np.float32)
        array = (array - 128) * rng.uniform(0.9, 1.1) + 128 + rng.uniform(-12, 12)
        image = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), "RGB")
    scale = math.sqrt(12_000_000 / (image.width * image.height))
    big = image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.BICUBIC
    )
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=int(rng.integers(85, 93)))
    return buffer.getvalue()


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM): its own, unlike ``ru_maxrss``, which
    Linux carries over from the parent a spawned process was forked from."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux


def serve(
    segment_paths: list[list[Path]],
    claims: list[tuple[int, str | None, Path]],
    add: tuple[int, SegmentEntry],
    store: Path,
    cache_bytes: int,
    out: Any,
) -> None:
    """The serving process: load indexes as a worker does, analyse each claim, add a photo."""
    from forensics.pipeline import analyse_claim

    cache = OriginalIndexCache(cache_bytes)

    def index_of(merchant: int) -> OriginalIndex:
        found = cache.get(merchant)
        if found is None:
            found = OriginalIndex.from_segments(
                (read_segment(p) for p in segment_paths[merchant]), load=load_scene
            )
            cache.put(merchant, found)
        return found

    times, found_right, copies, false_matches = [], 0, 0, 0
    for merchant, expected, claim_path in claims:
        data = claim_path.read_bytes()
        started = time.process_time()
        analysis = analyse_claim(data, index_of(merchant))
        times.append((time.process_time() - started) * 1000)
        derived = analysis.match is not None and analysis.is_derived
        if expected is not None:
            copies += 1
            right = derived and analysis.match.original_key == expected  # type: ignore[union-attr]
            found_right += int(right)
            if not right:
                match = analysis.match
                print(
                    f"missed {expected}: matched "
                    f"{match.original_key if match else None} score "
                    f"{match.same_photo_score if match else None} "
                    f"inliers {match.inliers if match else None}",
                    file=sys.stderr,
                )
        else:
            false_matches += int(derived)
    # One new photo: its segment built, stored, then loaded and appended by this process.
    merchant, entry = add
    started = time.process_time()
    path = store / f"m{merchant}-added.seg"
    path.write_bytes(segment_bytes(stored_segment([entry])))
    index = index_of(merchant)
    index.extend(read_segment(path))
    add_ms = (time.process_time() - started) * 1000
    assert entry.key in index
    times_sorted = sorted(times)
    out.put(
        {
            "worker_rss_mb": round(peak_rss_kb() / 1024, 1),
            "claim_ms_mean": round(statistics.fmean(times), 1),
            "claim_ms_p95": round(
                times_sorted[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)], 1
            ),
            "recall": found_right / max(1, copies),
            "false_matches": false_matches,
            "index_add_ms": round(add_ms, 1),
            "cached_indexes": len(cache),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--originals", type=int, default=1000, help="originals per merchant")
    parser.add_argument("--merchants", type=int, default=1)
    parser.add_argument("--claims", type=int, default=40, help="claims served (half copies)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="processes fingerprinting")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "refundguard-scale"
    )
    parser.add_argument(
        "--cache-bytes", type=int, default=768 * 2**20, help="the serving process's index cache"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    args.cache.mkdir(parents=True, exist_ok=True)
    store = Path(tempfile.mkdtemp(prefix="scale-index-", dir=args.cache))
    build_s = 0.0
    paths: list[list[Path]] = []
    # Each merchant's segment is built and stored as its fingerprints arrive.
    for m, merchant_entries in enumerate(
        fingerprints(args.merchants, args.originals, args.cache, args.workers)
    ):
        started = time.process_time()
        path = store / f"m{m}.seg"
        path.write_bytes(segment_bytes(stored_segment(merchant_entries)))
        build_s += time.process_time() - started
        paths.append([path])
    build_s /= args.merchants
    print(f"index built in {build_s:.1f} s per merchant", file=sys.stderr)

    # Claims go to disk as they are made (a thousand 12 MP JPEGs would not fit in memory);
    # the serving process reads each before timing it.
    claims: list[tuple[int, str | None, Path]] = []
    for k in range(args.claims):
        merchant = k % args.merchants
        claim_path = store / f"claim{k}.jpg"
        if k % 2 == 0:
            j = int(rng.integers(0, args.originals))
            seed = merchant * args.originals + j
            claim_path.write_bytes(claim_jpeg(scene(seed), rng, edit=True))
            claims.append((merchant, f"photo:{seed}", claim_path))
        else:
            claim_path.write_bytes(claim_jpeg(scene(UNRELATED_BASE + k), rng, edit=False))
            claims.append((merchant, None, claim_path))
    new_seed = ADDED_BASE  # a new original, in no merchant's index
    analysis = fit_for_analysis(scene(new_seed))
    values = {f.algorithm: f.value for f in fingerprint_image(analysis)}
    added = SegmentEntry(f"photo:{new_seed}", values, analysis.size, source=f"scene:{new_seed}")

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(
        target=serve, args=(paths, claims, (0, added), store, args.cache_bytes, queue)
    )
    worker.start()
    result = queue.get()
    worker.join()
    for path in store.iterdir():
        path.unlink()
    store.rmdir()
    print(
        json.dumps(
            {
                "originals": args.originals,
                "merchants": args.merchants,
                "index_build_s": round(build_s, 2),
                "index_add_ms": result["index_add_ms"],
                "worker_rss_mb": result["worker_rss_mb"],
                "claim_ms_mean": result["claim_ms_mean"],
                "claim_ms_p95": result["claim_ms_p95"],
                "recall": result["recall"],
                "false_matches": result["false_matches"],
                "claims": args.claims,
                "cached_indexes": result["cached_indexes"],
            }
        )
    )


if __name__ == "__main__":
    main()
