"""Images and indexes the engine tests make: no database, no dataset photos.

Listing photos come from the samples inside the scikit-image wheel; claims are made from
them by painting damage and encoding as a phone would.
"""

from __future__ import annotations

import io
from typing import Literal

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
