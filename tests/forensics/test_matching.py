"""Unit tests of the matching engine on images the tests make (skimage.data, synthetic).

A doctored copy (painted damage, then a fraudster's edit) must be matched to its original
with the changed region found; another photograph of the same artwork must not be.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from skimage import data as skdata

from forensics import matching, same_photo, transforms
from forensics.fingerprints import OrbFeatures
from forensics.matching import claim_match
from forensics.original_index import OriginalIndex
from tests.forensics.engine_images import (
    as_claim,
    bbox,
    indexed,
    iou,
    label_product,
    paint_damage,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def screenshot(image: Image.Image, mask: Image.Image) -> tuple[Image.Image, Image.Image]:
    frame = Image.new("RGB", (720, 1480), (245, 245, 245))
    frame_mask = Image.new("L", frame.size, 0)
    inner = image.resize((680, round(image.height * 680 / image.width)), Image.Resampling.LANCZOS)
    inner_mask = mask.resize(inner.size, Image.Resampling.NEAREST)
    frame.paste(inner, (20, 160))
    frame_mask.paste(inner_mask, (20, 160))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((0, 0, 720, 60), fill=(0, 0, 0))
    draw.rectangle((30, 900, 600, 930), fill=(30, 30, 30))
    draw.rectangle((0, 1360, 720, 1480), fill=(255, 70, 20))
    return frame, frame_mask


def sepia(image: Image.Image, mask: Image.Image) -> tuple[Image.Image, Image.Image]:
    a = np.asarray(image, np.float32)
    m = np.float32([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return Image.fromarray(np.clip(a @ m.T, 0, 255).astype(np.uint8)), mask


def crop_then_border(image: Image.Image, mask: Image.Image) -> tuple[Image.Image, Image.Image]:
    """Crop away the top fifth, then frame with a uniform border (a fraudster's reframe)."""
    box = (0, image.height // 5, image.width, image.height)
    inner, inner_mask = image.crop(box), mask.crop(box)
    canvas = Image.new("RGB", (inner.width + 60, inner.height + 160), (40, 90, 200))
    canvas_mask = Image.new("L", canvas.size, 0)
    canvas.paste(inner, (30, 80))
    canvas_mask.paste(inner_mask, (30, 80))
    return canvas, canvas_mask


EDITS = {
    "none": lambda im, m: (im, m),
    "crop_border": crop_then_border,
    "crop_resize": lambda im, m: (
        im.crop((40, 30, 470, 480)).resize((860, 900), Image.Resampling.LANCZOS),
        m.crop((40, 30, 470, 480)).resize((860, 900), Image.Resampling.NEAREST),
    ),
    "rotate": lambda im, m: (
        im.rotate(11, Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255)),
        m.rotate(11, Image.Resampling.NEAREST, expand=True, fillcolor=0),
    ),
    "mirror": lambda im, m: (
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        m.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    ),
    "screenshot": screenshot,
    "colour_filter": sepia,
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_doctored_copy_is_matched_and_its_region_found(
    edit: str, index: OriginalIndex, originals: dict[str, Image.Image]
) -> None:
    painted, mask = paint_damage(originals["astronaut"], (330, 300))
    image, moved_mask = EDITS[edit](painted, mask)
    claim, size = as_claim(image)

    match = claim_match(claim, claim_size=size, index=index)

    assert match is not None
    assert match.original_key == "astronaut"
    assert match.is_derived
    assert match.same_photo_score >= same_photo.SAME_PHOTO_THRESHOLD
    assert match.region is not None
    assert iou(match.region, bbox(moved_mask)) >= 0.5
    assert match.heatmap is not None and match.heatmap.size == claim.size


def paint_faint_stain(
    image: Image.Image, centre: tuple[int, int]
) -> tuple[Image.Image, Image.Image]:
    """A translucent brownish stain moving pixels by only ~20 grey levels (no dark core)."""
    a = np.asarray(image, np.float32)
    yy, xx = np.mgrid[0 : a.shape[0], 0 : a.shape[1]]
    x, y = centre
    inside = ((xx - x) / 40.0) ** 2 + ((yy - y) / 28.0) ** 2 <= 1.0
    alpha = soft_edge(inside.astype(np.float32)) * 0.22
    stain = np.float32([120, 80, 30])
    painted = a * (1 - alpha[..., None]) + stain * alpha[..., None]
    diff = np.abs(np.round(painted) - a).max(axis=2)
    out = Image.fromarray(np.clip(np.round(painted), 0, 255).astype(np.uint8))
    return out, Image.fromarray(((diff >= 16) * 255).astype(np.uint8))


def soft_edge(mask: np.ndarray) -> np.ndarray:
    """Soften a 0/1 mask's edge a little (PIL only, as a painter's soft brush would)."""
    image = Image.fromarray((mask * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(2))
    return np.asarray(image, np.float32) / 255.0


def test_a_faint_stain_is_still_located(
    index: OriginalIndex, originals: dict[str, Image.Image]
) -> None:
    # Faint edits (translucent stains, smears, dents) change pixels by 15-30 grey levels;
    # the region must still be reported, not only strong dark holes and cracks.
    painted, mask = paint_faint_stain(originals["astronaut"], (150, 380))
    claim, size = as_claim(painted)

    match = claim_match(claim, claim_size=size, index=index)

    assert match is not None and match.is_derived
    assert match.region is not None
    assert iou(match.region, bbox(mask)) >= 0.5


def test_transforms_are_described(index: OriginalIndex, originals: dict[str, Image.Image]) -> None:
    painted, mask = paint_damage(originals["astronaut"], (330, 300))
    mirrored, _ = EDITS["mirror"](painted, mask)
    framed, _ = screenshot(painted, mask)

    claim, size = as_claim(mirrored)
    mirror_match = claim_match(claim, claim_size=size, index=index)
    claim, size = as_claim(framed)
    screen_match = claim_match(claim, claim_size=size, index=index)

    assert mirror_match is not None and "mirrored" in mirror_match.transforms
    assert screen_match is not None and "screenshot" in screen_match.transforms
    assert set(screen_match.transforms) <= set(transforms.TRANSFORM_NAMES)


def test_region_is_in_full_size_claim_pixels(
    index: OriginalIndex, originals: dict[str, Image.Image]
) -> None:
    painted, mask = paint_damage(originals["astronaut"], (330, 300))
    big = painted.resize((2048, 2048), Image.Resampling.LANCZOS)
    big_mask = mask.resize((2048, 2048), Image.Resampling.NEAREST)
    claim, size = as_claim(big)

    match = claim_match(claim, claim_size=size, index=index)

    assert claim.size == (512, 512) and size == (2048, 2048)
    assert match is not None and match.region is not None
    assert iou(match.region, bbox(big_mask)) >= 0.5


def test_another_photograph_of_the_same_artwork_is_not_derived(index: OriginalIndex) -> None:
    # Same printed label, a new photograph: another background, perspective, light, blur.
    scene = Image.fromarray(skdata.chelsea()).resize((400, 400))
    shot = label_product(scene)
    a = np.asarray(shot, np.float32) * 0.85 + 12
    shot = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    shot = shot.transform(
        (400, 400),
        Image.Transform.PERSPECTIVE,
        (1.05, 0.04, -20, 0.02, 1.0, -10, 0.0002, 0.0001),
        Image.Resampling.BICUBIC,
    ).filter(ImageFilter.GaussianBlur(0.8))
    noisy = np.asarray(shot, np.float32) + np.random.default_rng(3).normal(0, 4, (400, 400, 3))
    claim, size = as_claim(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)))

    match = claim_match(claim, claim_size=size, index=index)

    assert match is None or not match.is_derived


def test_mirrored_pass_verifies_only_originals_that_vote_more_strongly_mirrored(
    index: OriginalIndex, originals: dict[str, Image.Image]
) -> None:
    # A mirrored copy votes for its original far more strongly mirrored than plain; an
    # original the plain claim already votes for as strongly is not verified again mirrored
    # (that second verification + comparison was most of an honest photo's time).
    mirrored, _ = EDITS["mirror"](*paint_damage(originals["astronaut"], (330, 300)))
    claim, _ = as_claim(mirrored)
    target = [o.key for o in index.originals].index("astronaut")

    _, plain_votes = matching._feature_candidates(index, claim, mirrored=False)
    found, mirror_votes = matching._feature_candidates(
        index, claim, mirrored=True, plain_votes=plain_votes
    )
    stronger = plain_votes.copy()
    stronger[target] = mirror_votes[target] + 1
    blocked, _ = matching._feature_candidates(index, claim, mirrored=True, plain_votes=stronger)

    assert mirror_votes[target] > plain_votes[target]
    assert [c.index for c in found] == [target] and found[0].mirrored
    assert target not in [c.index for c in blocked]


def test_a_different_photo_is_not_matched(index: OriginalIndex) -> None:
    claim, size = as_claim(Image.fromarray(skdata.coffee()))

    match = claim_match(claim, claim_size=size, index=index)

    assert match is None or not match.is_derived


def test_empty_index_matches_nothing() -> None:
    claim, size = as_claim(Image.fromarray(skdata.astronaut()))

    assert len(OriginalIndex([])) == 0
    assert claim_match(claim, claim_size=size, index=OriginalIndex([])) is None


def test_matches_that_disagree_on_scale_and_rotation_are_dropped() -> None:
    rng = np.random.default_rng(3)
    # Keypoints as (x, y, size, angle): 20 true matches (same size, turned by 10 degrees)
    # and 15 repeated-patch matches with arbitrary sizes and angles.
    claim = np.column_stack(
        [
            rng.uniform(0, 200, 35),
            rng.uniform(0, 200, 35),
            np.full(35, 12.0),
            rng.uniform(0, 360, 35),
        ]
    ).astype(np.float32)
    original = claim.copy()
    original[:20, 3] = (claim[:20, 3] + 10.0) % 360
    original[20:, 2] = rng.uniform(3.0, 60.0, 15)
    original[20:, 3] = rng.uniform(0, 360, 15)
    matches = [cv2.DMatch(i, i, 0.0) for i in range(35)]

    kept = matching._consistent_matches(matches, claim, original)

    kept_ids = {m.queryIdx for m in kept}
    assert set(range(20)) <= kept_ids
    assert len(kept_ids - set(range(20))) <= 3  # a few strays may share the cell by chance


def test_a_similarity_is_still_fitted_when_true_matches_spread_over_scale_cells() -> None:
    # On a smooth object ORB's keypoint sizes (pyramid levels) are unreliable: a copy's
    # true matches fall into three scale cells, none with enough of them, so the vote's
    # cell alone cannot verify the copy; the loose matches together can.
    rng = np.random.default_rng(8)
    n = 24
    xy = rng.uniform(0, 200, (n, 2)).astype(np.float32)
    claim_points = np.column_stack([xy, np.full(n, 31.0), np.zeros(n)]).astype(np.float32)
    sizes = 31.0 * np.array([0.3, 0.6, 1.2], np.float32)[np.arange(n) % 3]
    original_xy = 0.6 * xy + np.float32([10, 20])
    original_points = np.column_stack([original_xy, sizes, np.zeros(n)]).astype(np.float32)
    original = OrbFeatures(original_points, np.zeros((n, 32), np.uint8), (140, 140))
    pairs = [[cv2.DMatch(i, i, 10.0), cv2.DMatch(i, (i + 1) % n, 100.0)] for i in range(n)]

    fitted = matching._similarity_fit(pairs, claim_points, original, (200, 200))

    assert fitted is not None
    h, inliers = fitted
    assert inliers == n
    assert np.allclose(h[:2, :2], 0.6 * np.eye(2), atol=1e-3)


def test_a_border_close_to_the_backdrop_is_trimmed_and_the_colours_refitted() -> None:
    # An ETH-80-like shot: a product on a grainy blue backdrop, a few rows cropped, then
    # framed with a different blue. The median that removes large-scale differences
    # absorbed the uniform band, so it was not trimmed, and the colour map fitted with it
    # left the product's outline as "changed": the copy scored 0.86, under the cut.
    rng = np.random.default_rng(1)
    grain = rng.normal(0, 6, (400, 400, 1))
    backdrop = Image.fromarray(np.clip(np.array([75, 92, 170]) + grain, 0, 255).astype(np.uint8))
    listing = label_product(backdrop).resize((256, 256), Image.Resampling.LANCZOS)
    painted, mask = paint_damage(listing, (128, 170))
    box = (0, 12, 256, 256)
    inner, inner_mask = painted.crop(box), mask.crop(box)
    framed = Image.new("RGB", (inner.width + 40, inner.height + 40), (30, 65, 195))
    framed_mask = Image.new("L", framed.size, 0)
    framed.paste(inner, (20, 20))
    framed_mask.paste(inner_mask, (20, 20))
    index = OriginalIndex([indexed("listing", listing)])
    claim, size = as_claim(framed)

    match = claim_match(claim, claim_size=size, index=index)

    assert match is not None and match.is_derived
    assert match.region is not None
    x, y, w, h = match.region
    dx, dy, dw, dh = bbox(framed_mask)
    assert x <= dx + dw // 2 <= x + w and y <= dy + dh // 2 <= y + h  # the damage is boxed


def keypoints(points: np.ndarray) -> np.ndarray:
    """ORB-style rows (x, y, size 31, angle 0) for synthetic matched points."""
    return np.column_stack([points, np.full(len(points), 31.0), np.zeros(len(points))]).astype(
        np.float32
    )


def test_many_claim_corners_matching_a_few_original_keypoints_do_not_outvote_a_copy() -> None:
    # A screenshot's interface has many corners that all match the same few keypoints of
    # a small original (and pass the ratio test: the original has nothing closer). They
    # outvote the copy's true matches and the fits collapse onto that spot; with one vote
    # per original keypoint the true matches decide.
    rng = np.random.default_rng(0)
    n_true, n_ui = 30, 200
    turn = np.deg2rad(10.0)
    a = 0.6 * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    xy = rng.uniform(40, 360, (n_true, 2))
    spots = np.array([[60.0, 60.0], [61.5, 60.0], [60.0, 61.5]])
    original_xy = np.vstack([spots, xy @ a.T + np.array([30.0, 20.0])])
    claim_xy = np.vstack([xy, rng.uniform(0, 400, (n_ui, 2))])

    claim_points = keypoints(claim_xy)
    original = OrbFeatures(
        keypoints(original_xy), np.zeros((len(original_xy), 32), np.uint8), (300, 300)
    )
    pairs = [[cv2.DMatch(i, i + 3, 10.0), cv2.DMatch(i, 0, 100.0)] for i in range(n_true)] + [
        [cv2.DMatch(n_true + j, j % 3, 20.0), cv2.DMatch(n_true + j, 3 + j % n_true, 100.0)]
        for j in range(n_ui)
    ]
    size = (400, 400)
    assert matching._homography_fit(pairs, claim_points, original, size) is None
    assert matching._similarity_fit(pairs, claim_points, original, size) is None

    fitted = matching._one_to_one_fit(pairs, claim_points, original, size)

    assert fitted is not None
    h, inliers = fitted
    assert inliers == n_true
    assert np.allclose(h[:2, :2], a, atol=1e-2)
    assert np.allclose(h[:2, 2], [30.0, 20.0], atol=0.5)


def test_a_turned_smooth_product_with_few_true_matches_still_gets_a_similarity() -> None:
    # A smooth product (a pot, a ring) turned a few degrees and re-saved keeps only 6-9
    # true ORB matches: too few for a homography, enough for a similarity's four degrees
    # of freedom. Two stray matches must not stop the fit.
    rng = np.random.default_rng(5)
    n_true = 7
    turn = np.deg2rad(8.0)
    a = 1.1 * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    xy = rng.uniform(10, 120, (n_true + 2, 2))
    original_xy = xy @ a.T + np.array([5.0, -3.0])
    original_xy[n_true:] = rng.uniform(0, 140, (2, 2))  # the strays
    claim_points = keypoints(xy)
    original = OrbFeatures(keypoints(original_xy), np.zeros((len(xy), 32), np.uint8), (140, 140))
    pairs = [
        [cv2.DMatch(i, i, 10.0), cv2.DMatch(i, (i + 1) % len(xy), 100.0)] for i in range(len(xy))
    ]
    size = (130, 130)
    assert matching._homography_fit(pairs, claim_points, original, size) is None

    fitted = matching._similarity_fit(pairs, claim_points, original, size)

    assert fitted is not None
    h, inliers = fitted
    assert inliers == n_true
    assert np.allclose(h[:2, :2], a, atol=1e-2)
