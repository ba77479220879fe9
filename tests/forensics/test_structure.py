"""The structural agreement (forensics.structure) on photos from skimage.data: a copy that
lost its fine texture is still recognised by its composition; another photograph of the
same printed picture is not."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from forensics import structure
from forensics.same_photo import SAME_PHOTO_THRESHOLD, compare_with_original

#: Inliers a feature fit to the right original finds on such copies (a firm fit: over
#: FIRM_FIT_INLIERS).
MANY_INLIERS = 200


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def _listing() -> np.ndarray:
    """A merchant's listing photo: a product picture on a white page, like a catalog."""
    picture = cv2.resize(data.coffee(), (240, 160), interpolation=cv2.INTER_AREA)
    page = np.full((220, 300, 3), 255, np.uint8)
    page[30:190, 30:270] = picture
    return page


def _regenerated(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A low-strength img2img imitation: edge-preserving denoise, a smooth 2 px
    displacement field, fresh noise, an unsharp mask."""
    out = cv2.edgePreservingFilter(image, flags=1, sigma_s=40, sigma_r=0.3)
    h, w = out.shape[:2]
    field = []
    for _ in range(2):
        coarse = rng.normal(0.0, 1.0, (5, 5)).astype(np.float32)
        smooth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        field.append(smooth / float(np.abs(smooth).max()) * 2.0)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    out = cv2.remap(
        out, xs + field[0], ys + field[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    noise = np.asarray(rng.normal(0.0, 4.0, size=(h, w, 3)), np.float32)
    noisy = np.asarray(out, np.float32) + noise
    sharpened = noisy + 0.8 * (noisy - cv2.GaussianBlur(noisy, (0, 0), 1.5))
    return np.clip(sharpened, 0, 255).astype(np.uint8)


def _turned(size: tuple[int, int], yaw_degrees: float) -> np.ndarray:
    """The homography of a pinhole camera looking at a plane turned by ``yaw_degrees``."""
    w, h = size
    f = 1.2 * w
    k = np.array([[f, 0.0, w / 2], [0.0, f, h / 2], [0.0, 0.0, 1.0]])
    t = math.radians(yaw_degrees)
    turn = np.array(
        [[math.cos(t), 0.0, math.sin(t)], [0.0, 1.0, 0.0], [-math.sin(t), 0.0, math.cos(t)]]
    )
    return k @ turn @ np.linalg.inv(k)


def _steep_rephotograph(
    image: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The picture on a screen, shown at 0.6 of its size and photographed 30° off axis:
    perspective, a dark bezel, strong glare, blur, moiré, noise, JPEG. Returns the photo
    and the map photo px -> picture px."""
    shown = cv2.resize(image, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    h, w = shown.shape[:2]
    turn = _turned((w, h), 30.0)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32).reshape(-1, 1, 2)
    seen = cv2.perspectiveTransform(corners, turn).reshape(-1, 2)
    shift = np.array(
        [[1.0, 0.0, 30 - seen[:, 0].min()], [0.0, 1.0, 30 - seen[:, 1].min()], [0, 0, 1]]
    )
    to_photo = shift @ turn
    size = (int(np.ptp(seen[:, 0])) + 60, int(np.ptp(seen[:, 1])) + 60)
    photo = cv2.warpPerspective(shown.astype(np.float32), to_photo, size, borderValue=(25, 25, 30))
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32)
    spot = (xs - 0.6 * size[0]) ** 2 + (ys - 0.4 * size[1]) ** 2
    photo = photo + 100.0 * np.exp(-spot / (2 * (0.15 * size[0]) ** 2))[..., None]
    photo = cv2.GaussianBlur(photo, (0, 0), 1.6)
    u, v = 0.8 * xs + 0.6 * ys, -0.6 * xs + 0.8 * ys
    moire = 1.0 + 0.08 * np.sin(2 * math.pi * u / 3.5) * np.sin(2 * math.pi * v / 4.5)
    photo = photo * moire[..., None] + rng.normal(0.0, 5.0, photo.shape)
    to_picture = np.diag([1 / 0.6, 1 / 0.6, 1.0]) @ np.linalg.inv(to_photo)
    return _jpeg(np.clip(photo, 0, 255).astype(np.uint8), 75), to_picture


def _new_photograph(listing: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Another photograph of the same printed picture: held up in another scene, from
    another angle, under other light, through another lens. Returns it and the map of its
    pixels onto the listing's (the printed picture lined up exactly, as a feature fit would)."""
    picture = listing[30:190, 30:270]
    ph, pw = picture.shape[:2]
    scene = cv2.resize(data.astronaut(), (420, 340), interpolation=cv2.INTER_AREA).astype(
        np.float32
    )
    where = np.array([[90, 70], [330, 60], [340, 240], [80, 250]], np.float32)
    to_photo = cv2.getPerspectiveTransform(
        np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32), where
    )
    printed = cv2.warpPerspective(picture.astype(np.float32), to_photo, (420, 340))
    inside = cv2.warpPerspective(np.ones((ph, pw), np.float32), to_photo, (420, 340))[..., None]
    photo = scene * (1 - inside) + printed * inside
    light = np.linspace(0.8, 1.15, 420, dtype=np.float32)[None, :, None]
    photo = cv2.GaussianBlur(photo * light, (0, 0), 0.8) + rng.normal(0.0, 3.0, photo.shape)
    photo_u8 = _jpeg(np.clip(photo, 0, 255).astype(np.uint8), 85)
    to_listing = np.array([[1.0, 0.0, 30.0], [0.0, 1.0, 30.0], [0.0, 0.0, 1.0]]) @ np.linalg.inv(
        to_photo
    )
    return photo_u8, to_listing


def _size(image: np.ndarray) -> tuple[int, int]:
    return image.shape[1], image.shape[0]


def test_a_regenerated_copy_scores_as_derived_though_its_texture_does_not() -> None:
    listing = _listing()
    claim = _regenerated(listing, np.random.default_rng(3))

    comparison = compare_with_original(claim, listing, np.eye(3))
    score, agreement = structure.same_photograph_score(
        comparison, _size(claim), inliers=MANY_INLIERS
    )

    assert comparison.score < SAME_PHOTO_THRESHOLD  # the fine texture alone misses it
    assert agreement is not None and agreement.keeps_composition
    assert score >= SAME_PHOTO_THRESHOLD


def test_a_steep_rephotograph_of_a_copy_scores_as_derived() -> None:
    listing = _listing()
    claim, to_listing = _steep_rephotograph(listing, np.random.default_rng(4))

    comparison = compare_with_original(claim, listing, to_listing)
    score, _ = structure.same_photograph_score(comparison, _size(claim), inliers=MANY_INLIERS)
    agreement = structure.comparison_structure(comparison, _size(claim))

    assert comparison.score < SAME_PHOTO_THRESHOLD  # the fine texture alone misses it
    assert agreement is not None and agreement.keeps_composition
    assert score >= SAME_PHOTO_THRESHOLD


def test_another_photograph_of_the_same_picture_does_not() -> None:
    listing = _listing()
    claim, to_listing = _new_photograph(listing, np.random.default_rng(5))

    comparison = compare_with_original(claim, listing, to_listing)
    score, _ = structure.same_photograph_score(comparison, _size(claim), inliers=MANY_INLIERS)
    agreement = structure.comparison_structure(comparison, _size(claim))

    # The printed picture lines up; the page around it does not.
    assert agreement is not None and not agreement.keeps_composition
    assert agreement.score < structure.STRUCTURE_DERIVED - 0.1
    assert score < SAME_PHOTO_THRESHOLD


def test_without_a_feature_fit_the_structure_decides_only_when_the_whole_frame_registers() -> None:
    """A pHash candidate brings no inliers: a regeneration registers whole (its
    displacement is a pixel or two) and is recognised in the strict band; the other view
    of a stereo pair keeps as much structure (parallax aside) but no one warp lays it over
    the original, and it stays another photograph."""
    listing = _listing()
    regenerated = _regenerated(listing, np.random.default_rng(3))
    views = [
        cv2.resize(view, (300, 202), interpolation=cv2.INTER_AREA)
        for view in data.stereo_motorcycle()[:2]
    ]
    copy = compare_with_original(regenerated, listing, np.eye(3))
    other_view = compare_with_original(views[1], views[0], np.eye(3))

    copy_score, _ = structure.same_photograph_score(copy, _size(regenerated), inliers=0)
    other_score, _ = structure.same_photograph_score(other_view, _size(views[1]), inliers=0)
    other_structure = structure.comparison_structure(other_view, _size(views[1]))

    assert copy.score < SAME_PHOTO_THRESHOLD <= copy_score
    assert copy.ecc >= structure.WHOLE_FRAME_CORRELATION > other_view.ecc
    # Parallax aside, the other view keeps as much of the composition as a copy does.
    assert other_structure is not None
    assert other_structure.score >= structure.STRUCTURE_DERIVED
    assert other_score == other_view.score < SAME_PHOTO_THRESHOLD


def test_structure_counts_the_background_and_the_share_of_the_frame_covered() -> None:
    original = cv2.resize(data.chelsea(), (200, 150), interpolation=cv2.INTER_AREA)
    everywhere = np.ones((150, 200), bool)
    rng = np.random.default_rng(6)
    noisy = np.clip(original + rng.normal(0.0, 5.0, original.shape), 0, 255).astype(np.uint8)
    other_scene = original.copy()
    other_scene[:, :100] = cv2.resize(data.astronaut(), (100, 150), interpolation=cv2.INTER_AREA)
    half = np.zeros((150, 200), bool)
    half[:, :60] = True

    same = structure.structural_agreement(original, noisy, everywhere)
    changed = structure.structural_agreement(original, other_scene, everywhere)
    corner = structure.structural_agreement(original, original, half)

    assert same.similarity > 0.95 and same.disagreeing < 0.02
    assert changed.similarity < 0.8 and changed.disagreeing > 0.3
    # A claim showing under STRUCTURE_FULL_COVERAGE of the frame is scaled down.
    assert corner.similarity > 0.95
    assert corner.score == pytest.approx(
        corner.similarity * 0.3 / structure.STRUCTURE_FULL_COVERAGE, abs=0.02
    )


def test_the_footprint_is_where_the_claim_lies_in_the_frame() -> None:
    # The claim is the left half of the frame, at half the scale.
    warp = np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 1.0]])

    footprint = structure.claim_footprint(warp, (50, 100), (200, 200))

    assert footprint[:, :99].all() and not footprint[:, 101:].any()


def test_a_plain_backdrop_both_share_is_not_counted_as_agreement() -> None:
    # Two products shot on one black turntable backdrop: the backdrop is two thirds of the
    # frame in both, and says nothing about which photograph this is.
    def on_backdrop(picture: np.ndarray) -> np.ndarray:
        frame = np.zeros((180, 240, 3), np.uint8)
        frame[50:130, 70:170] = cv2.resize(picture, (100, 80), interpolation=cv2.INTER_AREA)
        return frame

    coffee = on_backdrop(data.coffee())
    everywhere = np.ones((180, 240), bool)

    other_product = structure.structural_agreement(
        coffee, on_backdrop(data.astronaut()), everywhere
    )
    same_product = structure.structural_agreement(coffee, coffee, everywhere)

    assert same_product.similarity > 0.95
    assert other_product.similarity < 0.5 and other_product.disagreeing > 0.5
    assert not other_product.keeps_composition


def test_a_screens_glare_on_a_plain_backdrop_is_not_structure() -> None:
    # A product on a black turntable backdrop, re-photographed off a screen: a broad
    # bright blob of glare lies over the backdrop and part of the product. It is shading,
    # not the picture's structure, and must not count as disagreement.
    frame = np.zeros((200, 200, 3), np.float32)
    frame[60:150, 50:150] = cv2.resize(data.coffee(), (100, 90), interpolation=cv2.INTER_AREA)
    ys, xs = np.mgrid[0:200, 0:200].astype(np.float32)
    glare = 90.0 * np.exp(-((xs - 150.0) ** 2 + (ys - 50.0) ** 2) / (2 * 30.0**2))
    glared = np.clip(frame + glare[..., None], 0, 255).astype(np.uint8)
    everywhere = np.ones((200, 200), bool)

    agreement = structure.structural_agreement(frame.astype(np.uint8), glared, everywhere)

    assert agreement.similarity > 0.9 and agreement.disagreeing < 0.05
    assert agreement.keeps_composition


def test_the_band_a_re_photograph_needs_is_open_to_a_firm_fit_or_a_framed_picture() -> None:
    # Glare and moire: most of the composition kept, a sixth of the frame disagreeing.
    glare = structure.StructuralAgreement(similarity=0.82, footprint=1.0, disagreeing=0.15)
    one_edit = structure.StructuralAgreement(similarity=0.9, footprint=1.0, disagreeing=0.05)
    few = structure.STRUCTURE_MIN_INLIERS

    assert not glare.keeps_composition
    assert not glare.keeps_composition_with(structure.FIRM_FIT_INLIERS - 1)
    assert glare.keeps_composition_with(structure.FIRM_FIT_INLIERS)
    assert glare.keeps_composition_with(few, framed=True)
    assert one_edit.keeps_composition_with(few)


def test_a_firm_fit_registered_over_the_whole_frame_widens_the_strict_band() -> None:
    """A copy turned and cropped (no frame shared) that keeps the strict band's agreement
    with one edit and a rotation's filled corners disagreeing: a copy when a firm fit's
    registration correlates as only a copy does, not on a few inliers or a loose one."""
    turned_copy = structure.StructuralAgreement(similarity=0.88, footprint=1.0, disagreeing=0.14)
    firm, high = structure.FIRM_FIT_INLIERS, structure.FIRM_FIT_CORRELATION

    assert not turned_copy.keeps_composition
    assert turned_copy.keeps_composition_with(firm, shared=False, correlation=high)
    assert not turned_copy.keeps_composition_with(firm, shared=False, correlation=high - 0.01)
    assert not turned_copy.keeps_composition_with(firm - 1, shared=False, correlation=high)
    too_changed = structure.StructuralAgreement(similarity=0.88, footprint=1.0, disagreeing=0.2)
    assert not too_changed.keeps_composition_with(firm, shared=False, correlation=high)


def test_a_re_photograph_shows_the_originals_whole_frame_inside_its_own() -> None:
    """A picture of the picture frames the original inside the claim; a copy (or another
    shot from the same camera) shares its frame."""
    listing = _listing()
    rephoto, to_listing = _steep_rephotograph(listing, np.random.default_rng(4))
    copy = _jpeg(listing, 80)

    framed = compare_with_original(rephoto, listing, to_listing)
    same_frame = compare_with_original(copy, listing, np.eye(3))

    assert structure.frame_inside_claim(framed, _size(rephoto))
    assert not structure.frame_inside_claim(same_frame, _size(copy))
    assert structure.frame_shared_with_claim(same_frame, _size(copy))
    assert not structure.frame_shared_with_claim(framed, _size(rephoto))


def test_a_photo_cropped_to_the_product_shares_no_frame_with_the_listing() -> None:
    """The wide band with a firm fit alone flagged honest photos of a product against a
    plain wall: the buyer crops to the product, so the listing's frame lies well off the
    claim's; a copy of the whole picture keeps it."""
    listing = _listing()
    cropped = np.ascontiguousarray(listing[40:180, 50:250])  # around the printed picture
    to_listing = np.array([[1.0, 0.0, 50.0], [0.0, 1.0, 40.0], [0.0, 0.0, 1.0]])  # claim -> listing

    comparison = compare_with_original(cropped, listing, to_listing)

    assert not structure.frame_shared_with_claim(comparison, _size(cropped))
    glare = structure.StructuralAgreement(similarity=0.82, footprint=1.0, disagreeing=0.15)
    assert not glare.keeps_composition_with(structure.FIRM_FIT_INLIERS, shared=False)


def test_a_mirrored_copy_shares_the_listings_frame() -> None:
    """A mirrored copy lays the listing's corners on the claim's left for right: still a
    copy of the whole picture, not a photo cropped to the product."""
    listing = _listing()
    mirrored = np.ascontiguousarray(_jpeg(listing, 80)[:, ::-1])
    width = listing.shape[1]
    to_listing = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    comparison = compare_with_original(mirrored, listing, to_listing)

    assert structure.frame_shared_with_claim(comparison, _size(mirrored))


def test_a_tight_crop_is_judged_on_what_it_shows_only_when_its_texture_nearly_decides() -> None:
    """Scaled down for covering 40 % of the frame, a crop's agreement (0.9) is under every
    band; over what it shows it keeps a copy's composition, which counts when its fine
    texture nearly reaches the verdict (forensics.structure.same_photograph_score)."""
    crop = structure.StructuralAgreement(similarity=0.9, footprint=0.4, disagreeing=0.1)
    other_scene = structure.StructuralAgreement(similarity=0.65, footprint=0.4, disagreeing=0.4)

    assert crop.score < structure.FIRM_FIT_STRUCTURE
    assert not crop.keeps_composition_with(MANY_INLIERS)
    assert crop.keeps_shown_composition
    assert not other_scene.keeps_shown_composition
