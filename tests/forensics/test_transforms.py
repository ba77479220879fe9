"""How a doctored copy was made: each edit, alone, is described exactly (and nothing else)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from forensics.matching import claim_match
from forensics.original_index import OriginalIndex
from forensics.transforms import TRANSFORM_NAMES
from tests.forensics.engine_images import as_claim, paint_damage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Edit = Callable[[Image.Image], Image.Image]


def resize(image: Image.Image) -> Image.Image:
    return image.resize((820, 820), Image.Resampling.LANCZOS)


def crop(image: Image.Image) -> Image.Image:
    return image.crop((0, 60, 470, 512))


def rotate(image: Image.Image) -> Image.Image:
    return image.rotate(9, Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))


def mirror(image: Image.Image) -> Image.Image:
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def border(image: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (image.width + 80, image.height + 120), (40, 90, 200))
    canvas.paste(image, (40, 60))
    return canvas


def screenshot(image: Image.Image) -> Image.Image:
    page = Image.new("RGB", (720, 1480), (245, 245, 245))
    page.paste(image.resize((680, 680), Image.Resampling.LANCZOS), (20, 180))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, 720, 60), fill=(0, 0, 0))
    draw.rectangle((0, 60, 720, 120), fill=(255, 80, 0))
    for y in (920, 980, 1040, 1100):
        draw.rectangle((30, y, 560, y + 24), fill=(30, 30, 30))
    draw.rectangle((0, 1360, 720, 1480), fill=(255, 70, 20))
    return page


def sepia(image: Image.Image) -> Image.Image:
    a = np.asarray(image, np.float32)
    m = np.float32([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return Image.fromarray(np.clip(a @ m.T, 0, 255).astype(np.uint8))


def rephotograph(image: Image.Image) -> Image.Image:
    """Shown on a screen and photographed: keystone, a dark bezel, softness, sensor noise."""
    w, h = 640, 640
    src = np.asarray(image.resize((w, h), Image.Resampling.BICUBIC), np.float32)
    pad = 80
    quad = np.float32(
        [[pad + 30, pad], [pad + w - 10, pad + 25], [pad + w, pad + h], [pad, pad + h - 20]]
    )
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(corners, quad)
    out = cv2.warpPerspective(
        src, matrix, (w + 2 * pad, h + 2 * pad), borderValue=(25.0, 25.0, 28.0)
    )
    out = cv2.GaussianBlur(out, (0, 0), 1.2)
    out = out + np.random.default_rng(3).normal(0, 4.0, out.shape)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


CASES: dict[str, tuple[Edit, set[str]]] = {
    "unedited": (lambda im: im, set()),
    "resize": (resize, {"resized"}),
    "crop": (crop, {"cropped"}),
    "rotate": (rotate, {"rotated"}),
    "mirror": (mirror, {"mirrored"}),
    "border": (border, {"border"}),
    "screenshot": (screenshot, {"resized", "screenshot"}),
    "colour filter": (sepia, {"colour_filtered"}),
    "re-photograph": (rephotograph, {"resized", "rephotographed"}),
    "crop then border": (lambda im: border(crop(im)), {"cropped", "border"}),
    # A border is named whether it was added first (it then hugs the picture, inside the
    # page, the screen or the rotation's corners) or last (along the claim's edges).
    "border then screenshot": (
        lambda im: screenshot(border(im)),
        {"resized", "border", "screenshot"},
    ),
    "screenshot then border": (
        lambda im: border(screenshot(im)),
        {"resized", "border", "screenshot"},
    ),
    "border then re-photograph": (
        lambda im: rephotograph(border(im.resize((256, 256)))),
        {"resized", "border", "rephotographed"},
    ),
    "border then rotate": (lambda im: rotate(border(im)), {"border", "rotated"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_edit_is_described_exactly(
    case: str, index: OriginalIndex, originals: dict[str, Image.Image]
) -> None:
    edit, expected = CASES[case]
    painted, _ = paint_damage(originals["astronaut"], (330, 300))
    claim, size = as_claim(edit(painted))

    match = claim_match(claim, claim_size=size, index=index)

    assert match is not None and match.is_derived
    assert set(match.transforms) == expected
    assert list(match.transforms) == [t for t in TRANSFORM_NAMES if t in expected]


@pytest.mark.parametrize(
    ("size", "expected"),
    [((427, 640), set()), ((300, 450), {"resized"})],
    ids=["same size", "smaller"],
)
def test_resizing_is_judged_at_full_size_when_the_original_is_analysed_reduced(
    size: tuple[int, int],
    expected: set[str],
    index: OriginalIndex,
    originals: dict[str, Image.Image],
) -> None:
    # The rocket (427x640) is analysed at 512 px on its long side: a claim of the same
    # size is not "resized" though the analysis copies differ.
    painted, _ = paint_damage(originals["rocket"], (200, 300))
    claim, claim_size = as_claim(painted.resize(size, Image.Resampling.LANCZOS))

    match = claim_match(claim, claim_size=claim_size, index=index)

    assert match is not None and match.is_derived
    assert match.original_key == "rocket"
    assert set(match.transforms) == expected
