"""Images and indexes the engine tests make: no database, no dataset photos.

Listing photos come from the samples inside the scikit-image wheel; claims are made from
them by painting damage and encoding as a phone would.
"""

from __future__ import annotations

import io
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw
from skimage import data as skdata

from forensics.fingerprints import (
    fingerprint_image,
    fit_for_analysis,
    load_analysis_image,
)
from forensics.original_index import IndexedOriginal, indexed_original


def indexed(
    key: str, image: Image.Image, *, label: str = "", kind: Literal["photo", "keyframe"] = "photo"
) -> IndexedOriginal:
    """An index entry for a decoded original, through the product's one builder."""
    analysis = fit_for_analysis(image)
    prints = {f.algorithm: f.value for f in fingerprint_image(analysis)}
    return indexed_original(
        key, prints, load_image=lambda: analysis, full_size=image.size, label=label, kind=kind
    )


def label_product(background: Image.Image | None = None) -> Image.Image:
    """A 'listing photo': a printed carton label (the coffee photo as artwork) on white."""
    art = Image.fromarray(skdata.coffee()).resize((180, 240))
    canvas = background.copy() if background is not None else Image.new("RGB", (400, 400), "white")
    canvas.paste(art, (110, 80))
    return canvas


def paint_damage(image: Image.Image, centre: tuple[int, int]) -> tuple[Image.Image, Image.Image]:
    """A dark hole with a crack; returns the painted image and the mask of changed pixels."""
    painted = image.copy()
    draw = ImageDraw.Draw(painted)
    x, y = centre
    draw.ellipse((x - 18, y - 14, x + 18, y + 14), fill=(25, 20, 18))
    draw.line((x + 10, y, x + 45, y + 20, x + 60, y + 18), fill=(15, 15, 15), width=3)
    diff = np.abs(np.asarray(painted, np.int16) - np.asarray(image, np.int16)).max(axis=2)
    return painted, Image.fromarray(((diff >= 16) * 255).astype(np.uint8))


def bbox(mask: Image.Image) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(np.asarray(mask) > 127)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def as_claim(image: Image.Image) -> tuple[Image.Image, tuple[int, int]]:
    """Encode as a phone would (JPEG) and decode the way the workers do."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return load_analysis_image(buffer, max_pixels=60_000_000), image.size


def photographed(
    picture: Image.Image,
    corners: tuple[tuple[float, float], ...],
    size: tuple[int, int],
    *,
    surround: np.ndarray | None = None,
    seed: int = 0,
) -> Image.Image:
    """``picture`` shown on a screen and photographed: laid onto ``corners`` (top left,
    clockwise) of a ``size`` frame over ``surround`` (by default a dark bezel whose light
    falls off across it), with glare, lens blur and sensor noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if surround is None:
        bezel = 22.0 + 30.0 * xx / w + 12.0 * yy / h
        surround = np.repeat(bezel[..., None], 3, axis=2)
    src = np.asarray(picture.convert("RGB"), np.float32)
    ph, pw = src.shape[:2]
    quad = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    warp = cv2.getPerspectiveTransform(quad, np.float32(corners))
    shown = cv2.warpPerspective(src, warp, (w, h), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.ones((ph, pw), np.float32), warp, (w, h))[..., None]
    out = shown * inside + surround.astype(np.float32) * (1 - inside)
    glare = np.exp(-(((xx - 0.7 * w) / (0.4 * w)) ** 2 + ((yy - 0.3 * h) / (0.4 * h)) ** 2))
    out = out * 0.92 + 10.0 + glare[..., None] * 15.0
    out = cv2.GaussianBlur(out, (0, 0), 1.2) + rng.normal(0, 3.0, out.shape)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
