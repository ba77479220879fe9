"""Locating a small claim inside an original by correlation (forensics.template_search),
and the matching engine's use of it for crops too small for a feature fit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from skimage import data as skdata

from forensics import matching
from forensics.matching import claim_match
from forensics.original_index import OriginalIndex
from forensics.template_search import locate_claim
from tests.forensics.engine_images import as_claim, indexed

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _grey(image: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))


def _small_photo() -> np.ndarray:
    """A 128 px catalog-sized photo."""
    return np.asarray(cv2.resize(skdata.astronaut(), (128, 128), interpolation=cv2.INTER_AREA))


def _mapped(h: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
    pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, h).reshape(-1, 2)


def test_a_crop_is_found_where_it_was_cut() -> None:
    photo = _grey(_small_photo())
    crop = photo[20:110, 30:115]

    found = locate_claim(crop, photo)

    assert found is not None
    to_original, correlation = found
    assert correlation > 0.99
    corners = _mapped(to_original, [(0, 0), (84, 89)])
    np.testing.assert_allclose(corners, [[30, 20], [114, 109]], atol=1.0)


def test_a_turned_crop_with_filled_corners_is_found() -> None:
    """An editor's straighten turns the picture and fills the corners white; the crop
    keeps some of that fill."""
    photo = Image.fromarray(_small_photo())
    turned = photo.rotate(8, Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    crop = np.asarray(turned.crop((12, 10, turned.width - 14, turned.height - 12)))

    found = locate_claim(_grey(crop), _grey(np.asarray(photo)))

    assert found is not None
    to_original, correlation = found
    assert correlation > 0.9
    # The crop's centre lies on the photo's centre, which the turn kept in place.
    centre = _mapped(to_original, [((crop.shape[1] - 1) / 2, (crop.shape[0] - 1) / 2)])[0]
    expected_x = 64 + ((12 + turned.width - 14) / 2 - turned.width / 2)
    expected_y = 64 + ((10 + turned.height - 12) / 2 - turned.height / 2)
    assert abs(centre[0] - expected_x) < 4 and abs(centre[1] - expected_y) < 4


def test_another_picture_does_not_correlate() -> None:
    crop = _grey(_small_photo())[20:110, 30:115]
    other = _grey(np.asarray(cv2.resize(skdata.coffee(), (128, 128))))

    found = locate_claim(crop, other)

    assert found is None or found[1] < matching.TEMPLATE_MIN_CORRELATION


def test_a_flat_or_larger_claim_is_not_placed() -> None:
    photo = _grey(_small_photo())
    assert locate_claim(np.full((60, 60), 128, np.uint8), photo) is None
    assert locate_claim(np.asarray(cv2.resize(photo, (200, 200))), photo) is None


def _studio_object(seed: int) -> Image.Image:
    """A smooth shaded object on a dark turntable backdrop, 128 px, as COIL-100's are: few
    corners for ORB."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:128, 0:128].astype(np.float32)
    cx, cy = rng.uniform(50, 78, 2)
    ax, ay = rng.uniform(30, 48, 2)
    inside = ((xs - cx) / ax) ** 2 + ((ys - cy) / ay) ** 2 < 1
    spot = ((xs - cx + 15) ** 2 + (ys - cy + 15) ** 2) / (ax * ay * 2.5)
    light = np.clip(1.1 - 0.6 * spot, 0.3, 1.2)
    image = np.full((128, 128, 3), 18, np.float32)
    image[inside] = (rng.uniform(80, 255, 3) * light[..., None])[inside]
    image = cv2.GaussianBlur(image, (0, 0), 1.2) + rng.normal(0, 1.5, image.shape)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def test_a_small_crop_no_feature_fit_holds_is_matched_by_correlation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = {f"object {k}": _studio_object(k) for k in range(6)}
    index = OriginalIndex([indexed(key, image) for key, image in objects.items()])
    painted = objects["object 2"].copy()
    ImageDraw.Draw(painted).ellipse((60, 60, 72, 70), fill=(30, 25, 20))
    claim, size = as_claim(painted.crop((14, 20, 114, 112)))

    match = claim_match(claim, claim_size=size, index=index)

    assert match is not None and match.is_derived
    assert match.original_key == "object 2" and match.fit == "template"
    assert match.region is not None
    x, y, w, h = match.region
    assert x <= 60 - 14 + 2 and x + w >= 72 - 14 - 2 and y <= 60 - 20 + 2 and y + h >= 70 - 20 - 2
    # Features alone do not find it: that is what the correlation is for.
    monkeypatch.setattr(matching, "TEMPLATE_MAX_SIDE", 0)
    alone = claim_match(claim, claim_size=size, index=index)
    assert alone is None or not alone.is_derived


def _smooth_studio_photos() -> dict[str, Image.Image]:
    """128 px studio shots of smooth objects on black (COIL-100's kind): a photo blurred
    soft, so a small crop of it keeps only a few dozen corners."""
    names = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "coins")
    photos = {}
    for name in names:
        picture = getattr(skdata, name)()
        if picture.ndim == 2:
            picture = np.stack([picture] * 3, axis=-1)
        canvas = np.zeros((128, 128, 3), np.uint8)
        soft = (
            Image.fromarray(picture[..., :3]).resize((80, 80)).filter(ImageFilter.GaussianBlur(3))
        )
        canvas[24:104, 24:104] = np.asarray(soft)
        photos[name] = as_claim(Image.fromarray(canvas))[0]  # stored as the merchant's JPEG
    return photos


def test_a_tiny_crop_of_a_smooth_object_is_searched_where_its_fine_features_vote() -> None:
    # At the fingerprints' settings the crop's few corners vote for the wrong objects; the
    # template shortlist also counts the votes of features detected more finely.
    photos = _smooth_studio_photos()
    index = OriginalIndex([indexed(key, image) for key, image in photos.items()])
    painted = np.asarray(photos["coffee"].crop((30, 30, 105, 85))).copy()
    painted[20:28, 20:32] = (30, 20, 15)
    claim, size = as_claim(Image.fromarray(painted))

    match = claim_match(claim, claim_size=size, index=index)

    assert match is not None and match.is_derived
    assert match.original_key == "coffee" and match.fit == "template"
