"""The border around a claim's picture and the outline of a screen it was photographed on
(forensics.picture_frame), and what the structural test makes of a copy that was cropped
and then given a border (forensics.structure)."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image
from skimage import data

from forensics import structure
from forensics.matching import claim_match
from forensics.original_index import OriginalIndex
from forensics.picture_frame import photographed_picture, picture_inside_bezel, picture_surround
from forensics.same_photo import compare_with_original
from tests.forensics.engine_images import as_claim, label_product, photographed

TAN = (196, 150, 104)
PLUM = (120, 40, 90)


def _bordered(picture: np.ndarray, widths: tuple[int, int, int, int], colour: tuple[int, ...]):
    """``picture`` with a border of ``colour`` (top, bottom, left, right widths) and the
    mask of the border."""
    top, bottom, left, right = widths
    framed = cv2.copyMakeBorder(
        picture, top, bottom, left, right, cv2.BORDER_CONSTANT, value=colour
    )
    mask = np.ones(framed.shape[:2], bool)
    mask[top : top + picture.shape[0], left : left + picture.shape[1]] = False
    return framed, mask


def _turned_crop(listing: np.ndarray, degrees: float, keep: tuple[int, int, int, int]):
    """``listing`` turned by ``degrees`` (white fill, as a phone's editor leaves it), then
    cut to ``keep`` (x0, y0, x1, y1), and the claim-to-listing homography."""
    h, w = listing.shape[:2]
    turn = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0), [0, 0, 1]])
    turned = cv2.warpAffine(listing, turn[:2], (w, h), borderValue=(255, 255, 255))
    x0, y0, x1, y1 = keep
    shift = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0], [0.0, 0.0, 1.0]])
    return np.ascontiguousarray(turned[y0:y1, x0:x1]), np.linalg.inv(turn) @ shift


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_a_border_added_around_a_turned_crop_is_its_surround() -> None:
    listing = np.asarray(label_product())
    crop, _ = _turned_crop(listing, 8.0, (60, 40, 360, 330))
    claim, border = _bordered(crop, (30, 24, 36, 28), TAN)

    surround = picture_surround(claim)

    assert surround is not None
    assert _iou(surround, border) > 0.9


def test_a_border_around_a_border_is_peeled_too() -> None:
    photo = cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA)
    inner, _ = _bordered(photo, (14, 14, 14, 14), PLUM)
    claim, outer = _bordered(inner, (30, 30, 30, 30), TAN)
    both = np.ones(claim.shape[:2], bool)
    both[44:344, 44:344] = False

    surround = picture_surround(claim)

    assert surround is not None
    assert _iou(surround, both) > 0.9
    assert surround.sum() > outer.sum()


def test_a_photo_with_no_border_has_no_surround() -> None:
    assert picture_surround(data.astronaut()) is None


def test_a_listings_own_backdrop_is_not_left_out() -> None:
    """A product on white looks framed by its backdrop, but a copy reproduces that
    backdrop: the structural test measures it as it would without a surround."""
    listing = np.asarray(label_product())
    surround = picture_surround(listing)
    assert surround is not None  # the label on white, read from the claim alone
    comparison = compare_with_original(listing, listing, np.eye(3))
    size = (listing.shape[1], listing.shape[0])

    assert structure.comparison_structure(comparison, size, surround) == (
        structure.comparison_structure(comparison, size)
    )
    # Nor is it left out of the search for the edit: it is the listing's own.
    assert structure.claim_surround(comparison, surround) is None


def test_a_border_laid_over_the_originals_frame_is_the_claims_surround() -> None:
    """A turned crop's border falls over the original's frame where the crop removed it:
    there it differs from the original, and it is the claim's surround."""
    listing = np.asarray(label_product())
    crop, to_listing = _turned_crop(listing, 8.0, (60, 40, 360, 330))
    claim, _border = _bordered(crop, (30, 24, 36, 28), TAN)
    claim_to_listing = to_listing @ np.array([[1.0, 0, -36], [0, 1.0, -30], [0, 0, 1.0]])
    comparison = compare_with_original(claim, listing, claim_to_listing)

    laid = structure.claim_surround(comparison, picture_surround(claim))

    assert laid is not None and laid.any()


def test_a_product_against_a_lit_wall_is_no_border() -> None:
    """A wall's light falls off across it: not one colour, so not taken for a border,
    although the product's outline is a quadrilateral."""
    rng = np.random.default_rng(3)
    h, w = 420, 360
    ramp = np.linspace(190, 235, w, dtype=np.float32)[None, :, None]
    wall = np.repeat(np.repeat(ramp, h, 0), 3, 2) + rng.normal(0, 3, (h, w, 3))
    wall[70:350, 80:280] = cv2.resize(data.coffee(), (200, 280))
    claim = np.clip(wall, 0, 255).astype(np.uint8)

    assert picture_surround(claim) is None


def test_a_round_vignette_is_no_picture_frame() -> None:
    """A border must end at a quadrilateral: a round picture in a plain page is a
    sticker or a vignette, not a framed photograph."""
    photo = cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA)
    page = np.full((360, 360, 3), 240, np.uint8)
    disc = np.zeros((360, 360), np.uint8)
    cv2.circle(disc, (180, 180), 140, 1, -1)
    page[30:330, 30:330][disc[30:330, 30:330] > 0] = photo[disc[30:330, 30:330] > 0]

    assert picture_surround(page) is None


def test_a_bordered_crop_keeps_the_originals_structure_once_its_border_is_left_out() -> None:
    """Cut out of the frame and bordered, a copy lays its border over the part of the
    original the crop removed, and the border's step runs through the original's white
    backdrop: measured with the border, much of the frame disagrees; without it, the
    picture agrees as a copy does."""
    listing = np.asarray(label_product())
    crop, to_listing = _turned_crop(listing, 8.0, (60, 40, 360, 330))
    claim, _ = _bordered(crop, (30, 24, 36, 28), TAN)
    claim_to_listing = to_listing @ np.array([[1.0, 0, -36], [0, 1.0, -30], [0, 0, 1.0]])
    comparison = compare_with_original(claim, listing, claim_to_listing)
    size = (claim.shape[1], claim.shape[0])

    with_border = structure.comparison_structure(comparison, size)
    without = structure.comparison_structure(comparison, size, picture_surround(claim))

    assert with_border is not None and without is not None
    assert with_border.disagreeing > structure.REGISTERED_EDIT_SHARE
    assert without.disagreeing < structure.EDIT_SHARE
    assert without.similarity > structure.STRUCTURE_DERIVED
    # The border is not the photograph: the picture covers less of the frame.
    assert without.footprint < with_border.footprint


def test_a_bordered_turned_crop_of_the_listing_is_an_edited_copy(
    index: OriginalIndex, originals: dict[str, Image.Image]
) -> None:
    """End to end: the claim is recognised as the listing it was cut from, derived."""
    crop, _ = _turned_crop(np.asarray(originals["product"]), 6.0, (40, 30, 370, 360))
    framed, _ = _bordered(crop, (40, 40, 40, 40), TAN)
    claim, full_size = as_claim(Image.fromarray(framed))

    match = claim_match(claim, claim_size=full_size, index=index)

    assert match is not None and match.original_key == "product"
    assert match.is_derived


SCREEN_CORNERS = ((70.0, 58.0), (402.0, 40.0), (420.0, 392.0), (52.0, 370.0))


def test_a_picture_photographed_on_a_screen_is_found_by_its_outline() -> None:
    picture = Image.fromarray(data.chelsea()).crop((100, 30, 400, 290))
    claim = photographed(picture, SCREEN_CORNERS, (470, 430))

    corners = photographed_picture(np.asarray(claim))

    assert corners is not None
    # The outline's corners, within the pixel or two the lens blur spreads them over.
    assert np.abs(corners - np.array(SCREEN_CORNERS)).max() <= 3


def test_an_ordinary_photo_is_no_photographed_picture() -> None:
    for name in ("astronaut", "coffee", "rocket"):
        assert photographed_picture(getattr(data, name)()) is None


def test_a_picture_laid_on_a_surface_with_detail_is_no_photographed_picture() -> None:
    """An outline inside a surround with detail of its own (a carpet's weave, a shelf, a
    room) is no screen's bezel: a product box on a carpet is not straightened out."""
    picture = Image.fromarray(data.chelsea()).crop((100, 30, 400, 290))
    rng = np.random.default_rng(1)
    weave = cv2.GaussianBlur(rng.normal(0, 24, (430, 470)).astype(np.float32), (0, 0), 1.0)
    claim = photographed(picture, SCREEN_CORNERS, (470, 430), surround=np.dstack([60 + weave] * 3))

    assert photographed_picture(np.asarray(claim)) is None


def test_the_picture_inside_a_photographed_screens_bezel_is_found_inside_its_outline() -> None:
    """The screen's outline holds its bezel (lit by the same glare, so not one colour); the
    picture is the outline inside it."""
    picture = np.asarray(Image.fromarray(data.chelsea()).crop((100, 30, 400, 290)))
    bezel = 24
    framed = cv2.copyMakeBorder(picture, *(bezel,) * 4, cv2.BORDER_CONSTANT, value=(24, 20, 28))
    yy, xx = np.mgrid[0:430, 0:470].astype(np.float32)
    wall = np.repeat((170.0 + 20.0 * xx / 470 + 10.0 * yy / 430)[..., None], 3, axis=2)
    claim = np.asarray(
        photographed(Image.fromarray(framed), SCREEN_CORNERS, (470, 430), surround=wall)
    )

    outline = photographed_picture(claim)
    assert outline is not None
    inner = picture_inside_bezel(claim, outline)

    assert inner is not None
    fh, fw = framed.shape[:2]
    onto = cv2.getPerspectiveTransform(
        np.float32([[0, 0], [fw, 0], [fw, fh], [0, fh]]), np.float32(SCREEN_CORNERS)
    )
    edge = np.float32(
        [[bezel, bezel], [fw - bezel, bezel], [fw - bezel, fh - bezel], [bezel, fh - bezel]]
    )
    expected = cv2.perspectiveTransform(edge.reshape(-1, 1, 2), onto).reshape(-1, 2)
    # Within the few pixels the blur and the dilated step spread the picture's edge over.
    assert np.abs(inner - expected).max() <= 4


def test_a_screen_photographed_without_a_bezel_has_no_picture_inside_its_outline() -> None:
    picture = Image.fromarray(data.chelsea()).crop((100, 30, 400, 290))
    claim = np.asarray(photographed(picture, SCREEN_CORNERS, (470, 430)))

    outline = photographed_picture(claim)

    assert outline is not None
    assert picture_inside_bezel(claim, outline) is None
