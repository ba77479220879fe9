"""Benchmark: honest buyer photos of a product against a plain wall (false flags).

The held-out benchmark's honest rows are real handheld shelf photos: around the product
there is a shelf, which the listing's white backdrop never shows, so an honest photo
disagrees there. A buyer who stands the product against a plain wall and crops to it
leaves nothing around the product to disagree: only the printed face, which a real photo
reproduces at a catalog image's resolution. This is the hard case for the structural and
fine-texture tests alike.

For every grocery photo in ``../shared/datasets/grocery`` whose catalog product is located
by SIFT + RANSAC (as ``heldout.locate_product`` does), the claim is the photo with
everything outside the projected product box replaced by a plain wall (190–240 grey, a
left-to-right light gradient, sensor noise, a slight colour cast), cropped to the product
with a 30 % margin, saved as JPEG q90, and screened by the product's own analysis
(``detection.screen``) against an index of all grocery catalog images. The projected box
is the catalog's silhouette: a real photo would also show the carton's side and its
shadow, so this is harder than most real photos, not easier.

    REFUNDGUARD_DATASETS=../shared/datasets .venv/bin/python benchmarks/plain_wall.py

Prints the flagged claims (same-photograph score, inliers, structure figures) and ends
with one JSON line: ``claims``, ``flagged``, ``near_copies``, ``false_flag_rate``.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

# Run as a script, this folder would shadow the standard library (benchmarks/queue.py).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from benchmarks.detection import file_index, screen

_STATE: dict[str, Any] = {}


def _grey(image: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))


def against_a_wall(catalog_path: str, photo_path: str, seed: int) -> bytes | None:
    """The photo's product on a plain wall, cropped to it (JPEG), or None when the
    catalog product is not located in the photo."""
    rng = np.random.default_rng(seed)
    catalog = np.asarray(Image.open(catalog_path).convert("RGB"))
    photo = np.asarray(Image.open(photo_path).convert("RGB"))
    sift = cv2.SIFT.create(nfeatures=1000)
    kc, dc = sift.detectAndCompute(_grey(catalog), None)
    kp, dp = sift.detectAndCompute(_grey(photo), None)
    if dc is None or dp is None or len(kc) < 8 or len(kp) < 8:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(dc, dp, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < 10:
        return None
    src = np.array([kc[m.queryIdx].pt for m in good], np.float32)
    dst = np.array([kp[m.trainIdx].pt for m in good], np.float32)
    hom, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    if hom is None or inliers is None or int(inliers.sum()) < 12:
        return None
    ys, xs = np.nonzero(catalog.min(axis=2) < 235)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32)
    quad = cv2.perspectiveTransform(corners, hom)[0]
    h, w = photo.shape[:2]
    if not cv2.isContourConvex(quad) or cv2.contourArea(quad) < 0.03 * w * h:
        return None
    mask = np.zeros((h, w), np.float32)
    cv2.fillConvexPoly(mask, quad.astype(np.int32), 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.5)[..., None]
    gradient = np.linspace(-15, 15, w, dtype=np.float32)[None, :, None]
    wall = np.clip(rng.uniform(190, 240) + gradient + rng.normal(0, 2.5, (h, w, 1)), 0, 255)
    wall = wall * rng.uniform(0.95, 1.05, 3).astype(np.float32)
    composed = photo * mask + wall * (1 - mask)
    (bx0, by0), (bx1, by1) = quad.min(axis=0), quad.max(axis=0)
    mx, my = 0.3 * (bx1 - bx0), 0.3 * (by1 - by0)
    box = (
        max(0, int(bx0 - mx)),
        max(0, int(by0 - my)),
        min(w, int(bx1 + mx)),
        min(h, int(by1 + my)),
    )
    claim = Image.fromarray(np.clip(composed, 0, 255).astype(np.uint8)).crop(box)
    buffer = io.BytesIO()
    claim.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _init(listings: list[str]) -> None:
    cv2.setNumThreads(1)
    _STATE["index"] = file_index([Path(p) for p in listings])


def _run(job: tuple[str, str, int]) -> dict[str, Any] | None:
    data = against_a_wall(*job)
    if data is None:
        return None
    found = screen(data, _STATE["index"])
    details = found["details"]
    return {
        "photo": job[1],
        "listing": job[0],
        "flagged": found["flagged"],
        "original": found["original"],
        "same_photo": found["same_photo"],
        "inliers": found["inliers"],
        "near_copy": found["near_copy"],
        "structure": details.get("structure"),
        "disagreeing": details.get("structure_disagreeing"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    root = Path(os.environ.get("REFUNDGUARD_DATASETS", "../shared/datasets")) / "grocery"
    if not root.is_dir():
        print(f"no grocery dataset at {root}: nothing to measure")
        return 0
    products = sorted(p for p in root.iterdir() if (p / "catalog.jpg").exists())
    listings = [str(p / "catalog.jpg") for p in products]
    jobs = [
        (str(p / "catalog.jpg"), str(photo), k)
        for p in products
        for k, photo in enumerate(sorted((p / "photos").glob("*.jpg")))
    ]
    with multiprocessing.get_context("spawn").Pool(args.workers, _init, (listings,)) as pool:
        rows = [r for r in pool.imap(_run, jobs, chunksize=4) if r is not None]
    flagged = [r for r in rows if r["flagged"]]
    for r in sorted(flagged, key=lambda r: -r["same_photo"]):
        print(
            f"  flagged {Path(r['photo']).parent.parent.name}/{Path(r['photo']).name}: "
            f"same-photograph {r['same_photo']:.4f}, {r['inliers']} inliers, structure "
            f"{r['structure']}, disagreeing {r['disagreeing']}"
        )
    near = sum(r["near_copy"] for r in rows)
    print(
        f"{len(rows)} photos located and put against a wall: "
        f"{len(flagged)} flagged, {near} near copies"
    )
    print("Data: Grocery Store Dataset (Klasson, Zhang, Kjellström, WACV 2019), MIT licence")
    print(
        json.dumps(
            {
                "benchmark": "plain_wall",
                "claims": len(rows),
                "flagged": len(flagged),
                "near_copies": near,
                "false_flag_rate": len(flagged) / max(1, len(rows)),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
