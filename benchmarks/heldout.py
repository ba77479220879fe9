"""Benchmark: detection on products held out of calibration, against disguises the engine
was not tuned on, beside pHash and PDQ measured in the same run (issue 21).

* **Split by product.** Every object (grocery product, ETH-80 object, COIL-100 object) is
  in the calibration half or the report half by a seeded hash, never both. The pHash and
  PDQ thresholds are calibrated on the calibration half; every figure is reported on the
  report half (the calibration half gets one summary line).
* **Merchant index** per group: all the group's listing photos (grocery's 15 catalog
  images are each other's look-alike distractors). A hit needs the right original.
* **Honest claims** (grocery handheld photos): each photo tightly cropped to the product
  (the catalog located by SIFT + RANSAC homography, its non-white product box projected,
  3–8 % margin; a centred 60–80 % crop when no homography verifies), the photos closest to
  the catalog by pHash first. Rows: the crop; the crop with painted damage; the crop (every
  second one damaged) after a chat recompression chain; the uncropped photo. Neighbouring
  studio views (ETH-80 / COIL-100, the merchant's own session) are a separate row
  "studio neighbours": reported, never used to set a threshold, not in the false flags.
* **Doctored families** (``benchmarks/disguises.py``): the listing with damage painted on,
  then the family's operation with heavy parameters — rotate_crop, multi_crop,
  chat_screenshot, collage, steep_rephoto, chat_recompress, regenerate; the damage itself
  for poisson_damage, copy_move, inpaint_removal; classic (detection.py's single edits);
  random_chain (1–4 operations of all of these); crop_border (a multi_crop, rotate_crop or
  plain crop, then a border of one colour). The true region is the bounding box, in
  the claim's pixels, of the pixels the damage really changed.
* **Baselines**: pHash (``imagehash.phash``, the minimum Hamming distance over the 8
  rotations/flips) and PDQ (``pdqhash.compute_dihedral``) to each original of the group's
  index; a baseline flags a claim when its nearest original is within the largest
  distance that keeps the calibration half's honest false flags ≤ 0.5 %.

Claims per family and product: ``--per-product`` (default 12) for a grocery product, capped
by ``--limit``; ETH-80 and COIL-100 objects (one small studio view as the listing) get a
twelfth of that on average, spread evenly over objects and families.

Data sources (cited in the output): Grocery Store Dataset (Klasson et al., WACV 2019, MIT
licence); ETH-80 (Leibe & Schiele, CVPR 2003, research use); COIL-100 (Nene, Nayar,
Murase, Columbia 1996, research use).

Run from the repository root::

    .venv/bin/python benchmarks/heldout.py [--seed 7] [--workers 2] [--limit N]
        [--families a,b] [--dump out.jsonl] [--claims-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# benchmarks/queue.py would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import cv2
import imagehash
import numpy as np
import pdqhash
from PIL import Image

from benchmarks.detection import (
    SOURCES,
    TRUE_CHANGE_LEVELS,
    ObjectPhotos,
    _bbox,
    _jpeg,
    dataset_root,
    file_index,
    in_report_half,
    iou,
    load_objects,
    object_mask,
    paint_damage,
    screen,
)
from benchmarks.disguises import (
    DAMAGE_MARK,
    DAMAGES,
    FAMILIES,
    FRAME_MARK,
    Picture,
    Sources,
    apply,
    chat_recompress,
    family_plan,
)
from forensics.original_index import OriginalIndex

HONEST_ROWS = ("cropped", "cropped+damage", "recompressed", "uncropped")
STUDIO_ROW = "studio neighbours"
#: The baselines' threshold keeps the calibration half's honest false flags at or under this.
BASELINE_FALSE_FLAGS = 0.005
#: PDQ hashes a picture shrunk to this long side (as Facebook's own hasher does for speed).
PDQ_MAX_SIDE = 512
STUDIO_SHARE = 1 / 12  # a studio object's share of a grocery product's claims per family
#: Where the handheld photos' located product boxes are kept between runs.
CROP_CACHE = Path(tempfile.gettempdir()) / "refundguard-heldout-crops.json"


# --- Planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One claim to build and screen (small: it travels to the workers)."""

    idx: int
    kind: str  # "doctored" | "honest"
    family: str  # a doctored family, or an honest row
    group: str
    product: str
    object_index: int
    listing: str
    report: bool
    k: int  # the claim's number within (object, family)
    source: str = ""  # an honest claim's photo
    crop_box: tuple[int, int, int, int] | None = None
    located: bool = False  # the crop came from a verified homography


def _rng(*parts: object) -> np.random.Generator:
    key = ":".join(str(p) for p in parts).encode()
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:8]))


def _grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def product_box(catalog: np.ndarray) -> tuple[int, int, int, int]:
    """The catalog image's non-white product box (x0, y0, x1, y1)."""
    ys, xs = np.nonzero(catalog.min(axis=2) < 235)
    if not len(xs):
        return 0, 0, catalog.shape[1], catalog.shape[0]
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def locate_product(
    catalog: np.ndarray,
    catalog_features: tuple[Any, Any],
    photo: np.ndarray,
    rng: np.random.Generator,
) -> tuple[tuple[int, int, int, int], bool]:
    """A tight crop box of the product in a handheld photo: the catalog's product box
    projected by a SIFT + RANSAC homography with a 3–8 % margin, or a centred 60–80 %
    crop when no homography verifies. Returns the box and whether it was located."""
    h, w = photo.shape[:2]
    margin = float(rng.uniform(0.03, 0.08))
    share = float(rng.uniform(0.6, 0.8))
    kc, dc = catalog_features
    kp, dp = cv2.SIFT.create(nfeatures=1000).detectAndCompute(_grey(photo), None)
    if dc is not None and dp is not None and len(kc) >= 8 and len(kp) >= 8:
        pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(dc, dp, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
        if len(good) >= 10:
            src = np.array([kc[m.queryIdx].pt for m in good], np.float32)
            dst = np.array([kp[m.trainIdx].pt for m in good], np.float32)
            hom, inl = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
            if hom is not None and inl is not None and int(inl.sum()) >= 12:
                x0, y0, x1, y1 = product_box(catalog)
                quad = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32)
                proj = cv2.perspectiveTransform(quad, hom)[0]
                area = cv2.contourArea(proj)
                box_area = (x1 - x0) * (y1 - y0)
                scale = math.sqrt(max(area, 1.0) / max(box_area, 1))
                sides = np.linalg.norm(proj - np.roll(proj, 1, axis=0), axis=1)
                if (
                    cv2.isContourConvex(proj.astype(np.float32))
                    and 0.03 * w * h <= area <= 1.5 * w * h
                    and sides.min() > 0.25 * sides.max()
                    and 0.3 < scale < 6.0
                ):
                    bx0, by0 = proj.min(axis=0)
                    bx1, by1 = proj.max(axis=0)
                    mx, my = margin * (bx1 - bx0), margin * (by1 - by0)
                    box = (
                        max(0, round(bx0 - mx)),
                        max(0, round(by0 - my)),
                        min(w, round(bx1 + mx)),
                        min(h, round(by1 + my)),
                    )
                    if box[2] - box[0] >= 48 and box[3] - box[1] >= 48:
                        return box, True
    cw, ch = round(w * share), round(h * share)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return (x0, y0, x0 + cw, y0 + ch), False


def _phash(img: Image.Image) -> imagehash.ImageHash:
    return imagehash.phash(img)


def _crop_cache() -> dict[str, Any]:
    try:
        return dict(json.loads(CROP_CACHE.read_text()))
    except (OSError, ValueError):
        return {}


def plan_honest_grocery(
    obj: ObjectPhotos, seed: int, cache: dict[str, Any]
) -> list[tuple[str, tuple[int, int, int, int], bool]]:
    """The product's handheld photos with their tight crop, closest to the catalog first.

    Locating the product costs a SIFT match per photo (about a minute for all 600 on a
    busy core), so the boxes are kept in ``cache`` keyed by seed, file, size and mtime.
    """
    catalog = np.asarray(Image.open(obj.listing).convert("RGB"))
    catalog_hash = _phash(Image.fromarray(catalog))
    features: tuple[Any, Any] | None = None
    ranked = []
    for path, _ in obj.others:
        stat = path.stat()
        key = f"{seed}:{path}:{stat.st_size}:{stat.st_mtime_ns}"
        photo = np.asarray(Image.open(path).convert("RGB"))
        if key not in cache:
            if features is None:
                features = cv2.SIFT.create(nfeatures=2000).detectAndCompute(_grey(catalog), None)
            cache[key] = locate_product(catalog, features, photo, _rng(seed, "crop", path))
        box, located = tuple(cache[key][0]), bool(cache[key][1])
        crop = Image.fromarray(photo).crop(box)
        ranked.append((_phash(crop) - catalog_hash, str(path), box, located))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [(p, b, loc) for _, p, b, loc in ranked]


def _quota(position: int, share: float) -> int:
    """Claims at ``position`` when ``share`` per position on average is spread evenly."""
    return math.floor((position + 1) * share) - math.floor(position * share)


def plan_claims(
    objects: list[ObjectPhotos], seed: int, cap: int, families: Sequence[str]
) -> tuple[list[Spec], dict[str, int]]:
    """Every claim of the run; also how many grocery photos were located by homography."""
    specs: list[Spec] = []
    located = {"located": 0, "photos": 0}
    cache = _crop_cache()
    known = len(cache)

    def add(**kw: Any) -> None:
        specs.append(Spec(idx=len(specs), **kw))

    for oi, obj in enumerate(objects):
        base = {
            "group": obj.group,
            "product": obj.name,
            "object_index": oi,
            "listing": str(obj.listing),
            "report": in_report_half(obj, seed),
        }
        studio = obj.group != "grocery"
        for fi, family in enumerate(families):
            n = _quota(oi + fi, cap * STUDIO_SHARE) if studio else cap
            for k in range(n):
                add(kind="doctored", family=family, k=k, **base)
        if studio:
            for k in range(min(len(obj.others), _quota(oi, cap * STUDIO_SHARE))):
                add(kind="honest", family=STUDIO_ROW, k=k, source=str(obj.others[k][0]), **base)
            continue
        ranked = plan_honest_grocery(obj, seed, cache)
        located["photos"] += len(ranked)
        located["located"] += sum(loc for _, _, loc in ranked)
        for row in HONEST_ROWS:
            for k, (path, box, loc) in enumerate(ranked[:cap]):
                add(kind="honest", family=row, k=k, source=path, crop_box=box, located=loc, **base)
    if len(cache) != known:
        CROP_CACHE.write_text(json.dumps(cache))
    return specs, located


# --- Building claims (in the workers) ---------------------------------------------------------

_STATE: dict[str, Any] = {}


def _changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.abs(after.astype(int) - before.astype(int)).max(axis=2) >= TRUE_CHANGE_LEVELS


def build_claim(spec: Spec, seed: int) -> tuple[bytes, str, str, tuple[int, int, int, int] | None]:
    """The claim file's bytes, its format, the operations applied and the true box."""
    objects: list[ObjectPhotos] = _STATE["objects"]
    obj = objects[spec.object_index]
    rng = _rng(seed, spec.kind, spec.family, spec.group, spec.product, spec.k)
    sources = Sources(_STATE["other_photos"][spec.group][spec.product])
    if spec.kind == "doctored":
        listing = np.asarray(Image.open(obj.listing).convert("RGB"))
        damage, ops = family_plan(spec.family, rng, spec.k + spec.object_index)
        where = object_mask(listing, obj.group, obj.listing_mask)
        doctored = DAMAGES[damage](listing, where, rng, sources)
        mark = np.where(_changed(listing, doctored), DAMAGE_MARK, FRAME_MARK).astype(np.uint8)
        pic = apply(Picture(Image.fromarray(doctored), Image.fromarray(mark)), ops, rng, sources)
        data = pic.encoded if pic.encoded is not None else _jpeg(pic.image)
        fmt = pic.fmt if pic.encoded is not None else "jpg"
        return data, fmt, ">".join([damage, *ops]), _bbox(np.asarray(pic.mask) > 127)
    photo = np.asarray(Image.open(spec.source).convert("RGB"))
    if spec.family == STUDIO_ROW:
        if spec.k % 2 == 1:
            mpath = next((m for p, m in obj.others if str(p) == spec.source), None)
            photo = paint_damage(photo, object_mask(photo, obj.group, mpath), rng)[0]
            return _jpeg(Image.fromarray(photo)), "jpg", "view+damage", None
        return Path(spec.source).read_bytes(), "jpg", "view", None
    if spec.family == "uncropped":
        return Path(spec.source).read_bytes(), "jpg", "photo", None
    assert spec.crop_box is not None
    crop = np.ascontiguousarray(
        photo[spec.crop_box[1] : spec.crop_box[3], spec.crop_box[0] : spec.crop_box[2]]
    )
    ops = ["crop" if spec.located else "centre_crop"]
    damaged = spec.family == "cropped+damage" or (spec.family == "recompressed" and spec.k % 2 == 1)
    if damaged:
        crop = paint_damage(crop, object_mask(crop, "grocery", None), rng)[0]
        ops.append("damage")
    img = Image.fromarray(crop)
    if spec.family == "recompressed":
        blank = Image.new("L", img.size, 0)
        pic = chat_recompress(Picture(img, blank), rng, sources)
        assert pic.encoded is not None
        return pic.encoded, "jpg", ">".join([*ops, "chat_recompress"]), None
    return _jpeg(img), "jpg", ">".join(ops), None


# --- Baselines ------------------------------------------------------------------------------

_DIHEDRAL = (
    None,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_180,
    Image.Transpose.ROTATE_270,
    Image.Transpose.FLIP_LEFT_RIGHT,
    Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
)


def phash_dihedral(img: Image.Image) -> np.ndarray:
    """``imagehash.phash`` of the 8 rotations/flips, as an (8, 64) bool array.

    The picture is reduced to pHash's own 32×32 grey square first: rotating or flipping
    that square is rotating or flipping the picture (the resampling kernel is symmetric),
    and ``imagehash.phash`` of a 32×32 square does not resample it again.
    """
    small = img.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    hashes = [imagehash.phash(small if t is None else small.transpose(t)) for t in _DIHEDRAL]
    return np.stack([h.hash.ravel() for h in hashes])


def _pdq_input(img: Image.Image) -> np.ndarray:
    a = np.asarray(img.convert("RGB"))
    long_side = max(a.shape[:2])
    if long_side > PDQ_MAX_SIDE:
        f = PDQ_MAX_SIDE / long_side
        a = cv2.resize(
            a,
            (max(1, round(a.shape[1] * f)), max(1, round(a.shape[0] * f))),
            interpolation=cv2.INTER_AREA,
        )
    return np.ascontiguousarray(a)


def pdq_dihedral(img: Image.Image) -> np.ndarray:
    """PDQ of the 8 rotations/flips (``pdqhash.compute_dihedral``), an (8, 256) array."""
    hashes, _ = pdqhash.compute_dihedral(_pdq_input(img))
    return np.stack(hashes).astype(bool)


@dataclass
class HashIndex:
    keys: list[str]
    phash: np.ndarray  # (n, 64) bool
    pdq: np.ndarray  # (n, 256) bool


def hash_index(paths: Sequence[str]) -> HashIndex:
    """The originals' plain pHash and PDQ (the claim side tries the 8 orientations)."""
    ph, pd = [], []
    for p in paths:
        img = Image.open(p).convert("RGB")
        ph.append(imagehash.phash(img).hash.ravel())
        pd.append(pdqhash.compute(_pdq_input(img))[0].astype(bool))
    return HashIndex(list(paths), np.stack(ph), np.stack(pd))


def nearest(claim: np.ndarray, originals: np.ndarray, keys: list[str]) -> tuple[int, str]:
    """The smallest Hamming distance over orientations × originals, and that original."""
    dist = (claim[:, None, :] != originals[None, :, :]).sum(axis=2).min(axis=0)
    k = int(dist.argmin())
    return int(dist[k]), keys[k]


# --- Workers -------------------------------------------------------------------------------


def _init_worker(root: str, seed: int, claims_dir: str | None) -> None:
    cv2.setNumThreads(1)
    objects = load_objects(Path(root))
    _STATE["objects"] = objects
    _STATE["seed"] = seed
    _STATE["claims_dir"] = claims_dir
    groups: dict[str, list[str]] = defaultdict(list)
    for o in objects:
        groups[o.group].append(str(o.listing))
    _STATE["engine"] = {g: file_index([Path(p) for p in ps]) for g, ps in groups.items()}
    _STATE["hashes"] = {g: hash_index(ps) for g, ps in groups.items()}
    # Other products' real photos (never a listing photo: the collage's other tiles and
    # the Poisson donors must not be originals of the index).
    other: dict[str, dict[str, list[Path]]] = defaultdict(dict)
    for o in objects:
        pool = [p for q in objects if q.group == o.group and q.name != o.name for p, _ in q.others]
        other[o.group][o.name] = pool
    _STATE["other_photos"] = other


def run_claim(spec: Spec) -> dict[str, Any]:
    """Build one claim, screen it with the engine and the two baselines."""
    seed: int = _STATE["seed"]
    t0 = time.perf_counter()
    data, fmt, ops, true_box = build_claim(spec, seed)
    build_ms = (time.perf_counter() - t0) * 1000
    index: OriginalIndex = _STATE["engine"][spec.group]
    try:
        engine = screen(data, index)
        engine.pop("details", None)
    except Exception as exc:  # a broken engine build must not stop the benchmark
        engine = {
            "flagged": False,
            "original": None,
            "same_photo": 0.0,
            "inliers": 0,
            "region": None,
            "codes": [],
            "error": f"{type(exc).__name__}: {exc}",
            "ms": 0.0,
        }
    image = Image.open(io.BytesIO(data)).convert("RGB")
    hashes: HashIndex = _STATE["hashes"][spec.group]
    ph_d, ph_o = nearest(phash_dihedral(image), hashes.phash, hashes.keys)
    pdq_d, pdq_o = nearest(pdq_dihedral(image), hashes.pdq, hashes.keys)
    file = ""
    if _STATE["claims_dir"]:
        family = spec.family.replace(" ", "_").replace("+", "_")
        name = f"{spec.idx:05d}_{spec.kind}_{family}_{spec.product}.{fmt}"
        target = Path(_STATE["claims_dir"]) / "claims" / name
        target.write_bytes(data)
        file = str(target)
    return {
        "idx": spec.idx,
        "kind": spec.kind,
        "family": spec.family,
        "ops": ops,
        "group": spec.group,
        "product": spec.product,
        "half": "report" if spec.report else "calibration",
        "listing": spec.listing,
        "source": spec.source,
        "located": spec.located,
        "true_box": list(true_box) if true_box else None,
        "size": list(image.size),
        "format": fmt,
        "build_ms": build_ms,
        "engine": {
            k: engine.get(k)
            for k in (
                "flagged",
                "original",
                "same_photo",
                "inliers",
                "region",
                "codes",
                "near_copy",
                "level",
                "score",
                "transforms",
                "method",
                "ms",
                "error",
            )
        },
        "phash": {"distance": ph_d, "original": ph_o},
        "pdq": {"distance": pdq_d, "original": pdq_o},
        "file": file,
    }


# --- Figures -------------------------------------------------------------------------------


def calibrate_baseline(honest: Iterable[dict[str, Any]], name: str) -> int:
    """The largest distance whose honest false-flag rate stays ≤ BASELINE_FALSE_FLAGS."""
    dists = sorted(r[name]["distance"] for r in honest)
    if not dists:
        return -1
    allowed = math.floor(BASELINE_FALSE_FLAGS * len(dists))
    # Flagging at ≤ t flags every honest claim at distance ≤ t: t must stay under the
    # (allowed + 1)-th smallest honest distance.
    return dists[allowed] - 1 if allowed < len(dists) else dists[-1]


def engine_hit(r: dict[str, Any]) -> bool:
    return bool(r["engine"]["flagged"]) and r["engine"]["original"] == r["listing"]


def baseline_flag(r: dict[str, Any], name: str, cut: int) -> bool:
    return r[name]["distance"] <= cut


def baseline_hit(r: dict[str, Any], name: str, cut: int) -> bool:
    return baseline_flag(r, name, cut) and r[name]["original"] == r["listing"]


def _rate(k: int, n: int) -> float:
    return k / n if n else 0.0


def family_figures(rows: list[dict[str, Any]], cuts: dict[str, int]) -> dict[str, Any]:
    """Recall, IoU and baselines' recall for one family's doctored claims."""
    hits = [r for r in rows if engine_hit(r)]
    ious_hit = [iou(r["engine"]["region"], tuple(r["true_box"])) for r in hits if r["true_box"]]
    ious_all = [
        iou(r["engine"]["region"], tuple(r["true_box"])) if engine_hit(r) else 0.0
        for r in rows
        if r["true_box"]
    ]
    misses = [r for r in rows if not engine_hit(r)]
    closest = max(misses, key=lambda r: r["engine"]["same_photo"] or 0.0, default=None)
    return {
        "n": len(rows),
        "engine_recall": _rate(len(hits), len(rows)),
        "engine_iou": statistics.fmean(ious_hit) if ious_hit else 0.0,
        "engine_iou_all": statistics.fmean(ious_all) if ious_all else 0.0,
        "phash_recall": _rate(
            sum(baseline_hit(r, "phash", cuts["phash"]) for r in rows), len(rows)
        ),
        "pdq_recall": _rate(sum(baseline_hit(r, "pdq", cuts["pdq"]) for r in rows), len(rows)),
        "misses": len(misses),
        "misses_wrong_original": sum(
            r["engine"]["flagged"] and r["engine"]["original"] != r["listing"] for r in misses
        ),
        "misses_no_candidate": sum(r["engine"]["original"] is None for r in misses),
        "misses_errors": sum(bool(r["engine"].get("error")) for r in misses),
        "closest_miss": (
            {
                "same_photo": closest["engine"]["same_photo"],
                "inliers": closest["engine"]["inliers"],
                "original": (
                    "none"
                    if closest["engine"]["original"] is None
                    else "right"
                    if closest["engine"]["original"] == closest["listing"]
                    else "other"
                ),
                "ops": closest["ops"],
                "codes": closest["engine"]["codes"],
            }
            if closest
            else None
        ),
        "misses_median_same_photo": (
            statistics.median(r["engine"]["same_photo"] or 0.0 for r in misses) if misses else None
        ),
        "misses_median_inliers": (
            statistics.median(r["engine"]["inliers"] or 0 for r in misses) if misses else None
        ),
    }


def honest_figures(rows: list[dict[str, Any]], cuts: dict[str, int]) -> dict[str, Any]:
    return {
        "n": len(rows),
        "engine_ff": _rate(sum(bool(r["engine"]["flagged"]) for r in rows), len(rows)),
        "engine_flags": sum(bool(r["engine"]["flagged"]) for r in rows),
        "phash_ff": _rate(sum(baseline_flag(r, "phash", cuts["phash"]) for r in rows), len(rows)),
        "pdq_ff": _rate(sum(baseline_flag(r, "pdq", cuts["pdq"]) for r in rows), len(rows)),
        "max_same_photo": max((r["engine"]["same_photo"] or 0.0 for r in rows), default=0.0),
    }


def summarise(
    results: list[dict[str, Any]], cuts: dict[str, int], families: Sequence[str]
) -> dict[str, Any]:
    """All figures of one half."""
    doctored = [r for r in results if r["kind"] == "doctored"]
    honest = [r for r in results if r["kind"] == "honest" and r["family"] != STUDIO_ROW]
    by_family = {
        f: family_figures([r for r in doctored if r["family"] == f], cuts) for f in families
    }
    by_row = {
        row: honest_figures(
            [r for r in results if r["kind"] == "honest" and r["family"] == row], cuts
        )
        for row in (*HONEST_ROWS, STUDIO_ROW)
    }
    overall = family_figures(doctored, cuts)
    flags = honest_figures(honest, cuts)
    populated = {f: v for f, v in by_family.items() if v["n"]}
    weakest = min(populated, key=lambda f: populated[f]["engine_recall"]) if populated else None
    return {
        "doctored": len(doctored),
        "honest": len(honest),
        "recall": overall["engine_recall"],
        "false_flag_rate": flags["engine_ff"],
        "false_flags": flags["engine_flags"],
        "mean_iou": overall["engine_iou_all"],
        "mean_iou_detected": overall["engine_iou"],
        "phash_recall": overall["phash_recall"],
        "pdq_recall": overall["pdq_recall"],
        "phash_false_flag_rate": flags["phash_ff"],
        "pdq_false_flag_rate": flags["pdq_ff"],
        "weakest_family": weakest,
        "families": by_family,
        "honest_rows": by_row,
        "errors": sum(bool(r["engine"].get("error")) for r in results),
    }


def print_report(s: dict[str, Any], cuts: dict[str, int]) -> None:
    """The report half's tables."""
    print("\n== REPORT half (held-out products): doctored families ==")
    print(f"  {'family':<17}{'n':>5}{'engine':>9}{'IoU':>7}{'pHash':>9}{'PDQ':>9}  beats both")
    for f, v in s["families"].items():
        if not v["n"]:
            continue
        best = max(v["phash_recall"], v["pdq_recall"])
        mark = (
            "yes"
            if v["engine_recall"] > best
            else ("= tie" if v["engine_recall"] == best else "NO  <--")
        )
        print(
            f"  {f:<17}{v['n']:>5}{v['engine_recall']:>9.1%}{v['engine_iou']:>7.3f}"
            f"{v['phash_recall']:>9.1%}{v['pdq_recall']:>9.1%}  {mark}"
        )
    print("  (IoU: mean over engine hits with a true box; pHash/PDQ at the calibrated cut)")
    print("\n== REPORT half: honest claims (false-flag rate) ==")
    print(f"  {'row':<19}{'n':>5}{'engine':>9}{'pHash':>9}{'PDQ':>9}  max same_photo")
    for row, v in s["honest_rows"].items():
        note = "  (not in the false flags)" if row == STUDIO_ROW else ""
        print(
            f"  {row:<19}{v['n']:>5}{v['engine_ff']:>9.2%}{v['phash_ff']:>9.2%}"
            f"{v['pdq_ff']:>9.2%}  {v['max_same_photo']:.3f}{note}"
        )
    print("\n== REPORT half: overall ==")
    print(f"  doctored {s['doctored']}, honest {s['honest']} (studio neighbours apart)")
    print(
        f"  engine recall {s['recall']:.2%} (target ≥ 99 %, every family ≥ 97 %)   "
        f"pHash {s['phash_recall']:.2%}   PDQ {s['pdq_recall']:.2%}"
    )
    print(
        f"  false flags on honest buyer photos (hard negatives included): engine "
        f"{s['false_flag_rate']:.2%} ({s['false_flags']}) (target ≤ 0.5 %)   pHash "
        f"{s['phash_false_flag_rate']:.2%}   PDQ {s['pdq_false_flag_rate']:.2%}"
    )
    print(
        f"  mean region IoU {s['mean_iou']:.3f} (misses = 0; target ≥ 0.75), "
        f"{s['mean_iou_detected']:.3f} on detected"
    )
    print(f"  WEAKEST family: {s['weakest_family']}")
    if s["errors"]:
        print(f"  engine errors: {s['errors']} (counted as misses / not flagged)")
    print("\n== REPORT half: the engine's misses, per family ==")
    print(
        f"  {'family':<17}{'misses':>7}{'wrong':>6}{'none':>6}"
        "  closest (same_photo, inliers)  median"
    )
    for f, v in s["families"].items():
        if not v["misses"]:
            continue
        c = v["closest_miss"]
        print(
            f"  {f:<17}{v['misses']:>7}{v['misses_wrong_original']:>6}{v['misses_no_candidate']:>6}"
            f"  {c['same_photo'] or 0:.3f}, {c['inliers'] or 0:>4} ({c['original']})"
            f"        {v['misses_median_same_photo']:.3f}, {v['misses_median_inliers']:.0f}"
        )
    print("  (wrong: flagged with another original; none: no candidate at all)")


def write_claims_csv(
    directory: Path, results: list[dict[str, Any]], objects: list[ObjectPhotos]
) -> None:
    """claims.csv beside the claim files, and each group's originals as a list of files."""
    fields = [
        "file",
        "kind",
        "family",
        "ops",
        "group",
        "product",
        "half",
        "listing",
        "true_box",
        "source",
    ]
    with (directory / "claims.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        for r in sorted(results, key=lambda r: r["idx"]):
            writer.writerow({k: json.dumps(r[k]) if k == "true_box" else r[k] for k in fields})
    groups: dict[str, list[str]] = defaultdict(list)
    for o in objects:
        groups[o.group].append(str(o.listing))
    for group, paths in groups.items():
        (directory / f"originals_{group}.txt").write_text("\n".join(paths) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--per-product", type=int, default=12, help="claims per family and grocery product"
    )
    parser.add_argument("--limit", type=int, default=0, help="cap on claims per family per product")
    parser.add_argument(
        "--families", default="", help="comma-separated doctored families (default all)"
    )
    parser.add_argument("--dump", help="write one JSON line per claim here")
    parser.add_argument("--claims-dir", help="write every claim file and claims.csv here")
    args = parser.parse_args()
    root = dataset_root()
    if not (root / "manifest.json").exists():
        print(
            f"held-out benchmark skipped: no datasets at {root} "
            "(set REFUNDGUARD_DATASETS or see ../shared/datasets/README.md)"
        )
        return 0
    families = [f for f in args.families.split(",") if f] or list(FAMILIES)
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {', '.join(FAMILIES)}")
    cap = min(args.per_product, args.limit) if args.limit else args.per_product
    objects = load_objects(root)
    t0 = time.perf_counter()
    specs, located = plan_claims(objects, args.seed, cap, families)
    print(
        f"planned {len(specs)} claims ({sum(s.kind == 'doctored' for s in specs)} doctored) "
        f"from {len(objects)} objects in {time.perf_counter() - t0:.1f} s; grocery photos "
        f"located by homography: {located['located']}/{located['photos']}"
    )
    claims_dir = Path(args.claims_dir) if args.claims_dir else None
    if claims_dir:
        (claims_dir / "claims").mkdir(parents=True, exist_ok=True)
    init = (str(root), args.seed, str(claims_dir) if claims_dir else None)
    results: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    step = max(1, len(specs) // 10)
    if args.workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(args.workers, _init_worker, init) as pool:
            for r in pool.imap_unordered(run_claim, specs, chunksize=4):
                results.append(r)
                if len(results) % step == 0:
                    print(
                        f"  {len(results)}/{len(specs)} in {time.perf_counter() - t0:.0f} s",
                        flush=True,
                    )
    else:
        _init_worker(*init)
        for spec in specs:
            results.append(run_claim(spec))
            if len(results) % step == 0:
                print(
                    f"  {len(results)}/{len(specs)} in {time.perf_counter() - t0:.0f} s", flush=True
                )
    elapsed = time.perf_counter() - t0
    results.sort(key=lambda r: r["idx"])
    print(f"built and screened in {elapsed:.0f} s with {args.workers} worker(s)")
    cal = [r for r in results if r["half"] == "calibration"]
    rep = [r for r in results if r["half"] == "report"]
    honest_cal = [r for r in cal if r["kind"] == "honest" and r["family"] != STUDIO_ROW]
    cuts = {name: calibrate_baseline(honest_cal, name) for name in ("phash", "pdq")}
    print(
        f"baseline cuts from the calibration half's {len(honest_cal)} honest claims "
        f"(≤ {BASELINE_FALSE_FLAGS:.1%} false flags): pHash ≤ {cuts['phash']} of 64 bits, "
        f"PDQ ≤ {cuts['pdq']} of 256 bits"
    )
    s_cal = summarise(cal, cuts, families)
    s_rep = summarise(rep, cuts, families)
    print(
        f"calibration half: {s_cal['doctored']} doctored, {s_cal['honest']} honest; engine recall "
        f"{s_cal['recall']:.2%}, false flags {s_cal['false_flag_rate']:.2%}, IoU "
        f"{s_cal['mean_iou']:.3f}; pHash {s_cal['phash_recall']:.2%} / "
        f"PDQ {s_cal['pdq_recall']:.2%}; "
        f"weakest {s_cal['weakest_family']}"
    )
    print_report(s_rep, cuts)
    ms = [r["engine"]["ms"] or 0.0 for r in results]
    print(
        f"\n  engine ms per claim: mean {statistics.fmean(ms):.0f}, build ms mean "
        f"{statistics.fmean(r['build_ms'] for r in results):.0f}"
    )
    if args.dump:
        with Path(args.dump).open("w") as fh:
            for r in results:
                fh.write(json.dumps(r) + "\n")
    if claims_dir:
        write_claims_csv(claims_dir, results, objects)
        print(f"claims written to {claims_dir}/claims (index: {claims_dir}/claims.csv)")
    print("\nData: " + "; ".join(SOURCES))
    summary = {
        "benchmark": "heldout",
        "seed": args.seed,
        "cap": cap,
        "claims": len(results),
        "seconds": round(elapsed, 1),
        "baseline_cuts": cuts,
        "calibration": {k: v for k, v in s_cal.items() if k not in ("families", "honest_rows")},
        "report": s_rep,
        "sources": SOURCES,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
