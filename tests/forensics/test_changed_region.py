"""The changed region is reported only where pixels changed locally (issue 23).

A claim whose only difference from its original is global — a colour filter, a tone
change, a resampling, a JPEG re-save — is the merchant's photo but has no "area changed";
the same photo with damage painted on before that processing keeps the damage's region.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance
from skimage import data as skdata

from forensics import same_photo
from forensics.original_index import OriginalIndex
from forensics.pipeline import Analysis, analyse_claim
from tests.forensics.engine_images import bbox, indexed, iou

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Box = tuple[int, int, int, int]

#: Saturated print on a package: a red logo and a blue badge, which filters clip.
LOGO, BADGE = (20, 20, 140, 80), (330, 200, 430, 280)


def printed_package() -> Image.Image:
    """A photo with flat, saturated print on it, as product packaging has."""
    image = Image.fromarray(skdata.chelsea())
    draw = ImageDraw.Draw(image)
    draw.rectangle(LOGO, fill=(235, 25, 35))
    draw.ellipse(BADGE, fill=(30, 60, 230))
    return image


PHOTOS: dict[str, Callable[[], Image.Image]] = {
    "astronaut": lambda: Image.fromarray(skdata.astronaut()),
    "chelsea": lambda: Image.fromarray(skdata.chelsea()),
    "coffee": lambda: Image.fromarray(skdata.coffee()),
    "package": printed_package,
}
#: Where each photo gets its crack: on a surface a crack shows on (not the dark hair).
CRACK_AT = {
    "astronaut": (300, 280),
    "chelsea": (150, 100),
    "coffee": (200, 130),
    "package": (250, 150),
}


def _colours(image: Image.Image, transform: Callable[[np.ndarray], np.ndarray]) -> Image.Image:
    out = transform(np.asarray(image, np.float32))
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def _warm(a: np.ndarray) -> np.ndarray:
    return a * np.float32([1.12, 1.0, 0.85]) + 8


def _sepia(a: np.ndarray) -> np.ndarray:
    return a @ np.float32([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]).T


def _resized(image: Image.Image, factor: float) -> Image.Image:
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


#: Global changes: (edit, scale of the claim against the original, JPEG quality sent).
GLOBAL_EDITS: dict[str, tuple[Callable[[Image.Image], Image.Image], float, int]] = {
    "saturation": (lambda im: ImageEnhance.Color(im).enhance(1.6), 1.0, 92),
    "warm_filter": (lambda im: _colours(im, _warm), 1.0, 92),
    "sepia": (lambda im: _colours(im, _sepia), 1.0, 92),
    "brightness_contrast": (
        lambda im: ImageEnhance.Contrast(ImageEnhance.Brightness(im).enhance(1.15)).enhance(1.3),
        1.0,
        92,
    ),
    "resize_0.5": (lambda im: _resized(im, 0.5), 0.5, 92),
    "resize_1.7": (lambda im: _resized(im, 1.7), 1.7, 92),
    "jpeg_q60": (lambda im: im, 1.0, 60),
}


def jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def paint_crack(image: Image.Image, at: tuple[int, int]) -> tuple[Image.Image, Box]:
    """A thin dark crack; returns the painted image and the box of the pixels it changed."""
    painted = image.copy()
    x, y = at
    ImageDraw.Draw(painted).line(
        (x, y, x + 40, y + 25, x + 55, y + 60, x + 80, y + 70), fill=(20, 18, 15), width=3
    )
    return painted, _changed_box(image, painted)


def paint_hole(image: Image.Image, at: tuple[int, int], radius: int) -> tuple[Image.Image, Box]:
    """A dark hole with a pale rim, ``radius`` pixels across."""
    painted = image.copy()
    x, y = at
    draw = ImageDraw.Draw(painted)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(30, 24, 20))
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=(225, 220, 210), width=2)
    return painted, _changed_box(image, painted)


def _changed_box(before: Image.Image, after: Image.Image) -> Box:
    diff = np.abs(np.asarray(after, np.int16) - np.asarray(before, np.int16)).max(axis=2)
    return bbox(Image.fromarray(((diff >= 16) * 255).astype(np.uint8)))


def _scaled(box: Box, factor: float) -> Box:
    return (
        round(box[0] * factor),
        round(box[1] * factor),
        round(box[2] * factor),
        round(box[3] * factor),
    )


@pytest.fixture(scope="module")
def shop() -> OriginalIndex:
    return OriginalIndex(indexed(name, make()) for name, make in PHOTOS.items())


def _analyse(image: Image.Image, quality: int, shop: OriginalIndex) -> Analysis:
    return analyse_claim(jpeg(image, quality), shop)


def _derived_finding_region(analysis: Analysis) -> object:
    top = analysis.verdict.reasons[0]
    assert top.code == "derived_from_original"
    return top.evidence["region"]


@pytest.mark.parametrize("photo", list(PHOTOS))
@pytest.mark.parametrize("edit", list(GLOBAL_EDITS))
def test_a_global_change_alone_reports_no_changed_region(
    edit: str, photo: str, shop: OriginalIndex
) -> None:
    transform, _, quality = GLOBAL_EDITS[edit]

    analysis = _analyse(transform(PHOTOS[photo]()), quality, shop)

    assert analysis.is_derived and analysis.original is not None
    assert analysis.original.key == photo
    assert analysis.region is None
    assert _derived_finding_region(analysis) is None  # no "with the area at x=… changed"


@pytest.mark.parametrize("photo", list(PHOTOS))
@pytest.mark.parametrize("edit", list(GLOBAL_EDITS))
def test_a_painted_crack_keeps_its_region_through_the_same_change(
    edit: str, photo: str, shop: OriginalIndex
) -> None:
    transform, scale, quality = GLOBAL_EDITS[edit]
    painted, crack = paint_crack(PHOTOS[photo](), CRACK_AT[photo])

    analysis = _analyse(transform(painted), quality, shop)

    assert analysis.is_derived and analysis.region is not None
    assert iou(analysis.region, _scaled(crack, scale)) >= 0.5
    assert _derived_finding_region(analysis) == list(analysis.region)


@pytest.mark.parametrize("radius", [6, 25, 45], ids=["small", "medium", "large"])
def test_a_hole_of_any_size_keeps_its_region_under_a_colour_filter(
    radius: int, shop: OriginalIndex
) -> None:
    painted, hole = paint_hole(PHOTOS["chelsea"](), (230, 150), radius)

    analysis = _analyse(ImageEnhance.Color(painted).enhance(1.6), 92, shop)

    assert analysis.region is not None and iou(analysis.region, hole) >= 0.5


def test_several_edits_of_one_impact_are_reported_together(shop: OriginalIndex) -> None:
    original = PHOTOS["coffee"]()
    cracked, crack = paint_crack(original, (200, 130))
    painted, hole = paint_hole(cracked, (300, 230), 12)
    x0, y0 = min(crack[0], hole[0]), min(crack[1], hole[1])
    x1 = max(crack[0] + crack[2], hole[0] + hole[2])
    y1 = max(crack[1] + crack[3], hole[1] + hole[3])

    analysis = _analyse(_colours(painted, _warm), 92, shop)

    assert analysis.region is not None and iou(analysis.region, (x0, y0, x1 - x0, y1 - y0)) >= 0.5


def test_filter_residue_on_saturated_print_stays_out_of_the_cracks_region(
    shop: OriginalIndex,
) -> None:
    # Sepia clips the blue badge, and what no affine colour map reproduces there was once
    # joined to the nearby crack's box, stretching it over the badge.
    painted, crack = paint_crack(printed_package(), CRACK_AT["package"])

    analysis = _analyse(_colours(painted, _sepia), 92, shop)

    assert analysis.region is not None and iou(analysis.region, crack) >= 0.8
    x, y, w, h = analysis.region
    grown = (crack[0] - 6, crack[1] - 6, crack[0] + crack[2] + 6, crack[1] + crack[3] + 6)
    assert grown[0] <= x and grown[1] <= y and x + w <= grown[2] and y + h <= grown[3]


# --- The parts, on arrays the tests make --------------------------------------------------


def test_a_clipping_colour_map_is_explained_but_a_painted_patch_is_not() -> None:
    rng = np.random.default_rng(4)
    # An original of a few flat colour patches (a printed label), and a claim made by a
    # saturation boost that clips (no affine map reproduces it) with one patch painted.
    palette = np.float32(
        [[200, 40, 40], [40, 160, 60], [50, 60, 190], [230, 210, 60], [120, 120, 120], [240] * 3]
    )
    work = palette[rng.integers(0, 6, (12, 12))].repeat(10, 0).repeat(10, 1)
    grey = work.mean(axis=2, keepdims=True)
    claim = np.clip(grey + (work - grey) * 2.2, 0, 255).astype(np.float32)
    claim[40:60, 50:70] = (25, 20, 18)
    valid = np.ones(work.shape[:2], bool)
    rendered = work.copy()  # the affine fit left out: the table alone must explain it

    explained = same_photo._globally_explained(work, claim, rendered, valid)

    # The colour table explains the filter (the chroma blur, for re-saves, need not)...
    outside = np.min(explained, axis=0)
    outside[35:65, 45:75] = 0
    assert outside.max() < same_photo.CHANGED_LOW
    # ... and no explanation touches the painted patch.
    for residue in explained:
        assert np.median(residue[44:56, 54:66]) > 3 * same_photo.CHANGED_HIGH


def test_only_components_no_explanation_clears_are_kept() -> None:
    difference = np.zeros((200, 200), np.float32)
    difference[30:60, 30:60] = 90.0  # a filter's residue: an explanation clears it
    difference[120:150, 120:140] = 50.0  # an edit: every explanation leaves it
    inside = np.ones((200, 200), np.uint8)
    cleared = difference.copy()
    cleared[30:60, 30:60] = 2.0

    changed = same_photo._changed_pixels(difference, inside, noise=0.5)
    edited = same_photo._changed_pixels(difference, inside, noise=0.5, explained=[cleared])

    assert changed[50, 50] and not changed[130, 130]  # the strongest, residue or not
    assert not edited[30:60, 30:60].any()
    ys, xs = np.nonzero(edited)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (120, 149, 120, 139)
    nothing_left = same_photo._changed_pixels(
        difference, inside, noise=0.5, explained=[np.zeros_like(difference)]
    )
    assert not nothing_left.any()


def test_a_faint_trace_along_the_frame_edge_is_not_an_edit() -> None:
    # Under the fallback thresholds only: a border's resampled, re-saved edge leaves a
    # faint band at the frame's corner; a faint stain inside the picture is still one.
    difference = np.zeros((200, 200), np.float32)
    difference[2:30, 2:30] = 14.0
    inside = np.ones((200, 200), np.uint8)

    corner = same_photo._changed_pixels(difference, inside, 0.5, explained=[difference])
    difference[80:110, 90:120] = 14.0
    stain = same_photo._changed_pixels(difference, inside, 0.5, explained=[difference])

    assert not corner.any()
    ys, xs = np.nonzero(stain)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (80, 109, 90, 119)


def test_a_small_faint_patch_with_a_core_is_the_edit_but_a_faint_speckle_is_not() -> None:
    # A Poisson-blended patch a few pixels across, faint everywhere: under the normal bar,
    # too small for a faint stain, but its whole core passes the fallback's high bar.
    difference = np.zeros((200, 200), np.float32)
    difference[80:87, 90:97] = 18.0
    inside = np.ones((200, 200), np.uint8)
    # A JPEG speckle as large, whose core is a few pixels: no edit.
    speckle = np.zeros((200, 200), np.float32)
    speckle[80:87, 90:97] = 10.0
    speckle[82:85, 92:95] = 18.0

    patch = same_photo._changed_pixels(difference, inside, 0.5, explained=[difference])
    noise = same_photo._changed_pixels(speckle, inside, 0.5, explained=[speckle])
    # The same patch half explained by a global change (a re-save's softening): no edit.
    halved = same_photo._changed_pixels(difference, inside, 0.5, explained=[difference / 2])

    ys, xs = np.nonzero(patch)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (80, 86, 90, 96)
    assert not noise.any()
    assert not halved.any()


def test_a_structural_copys_edit_is_sought_where_its_structure_disagrees() -> None:
    # A re-photographed copy: residue of the blurred print along a long line of text is
    # stronger than the painted smear, but its structure agrees; the smear's does not.
    difference = np.zeros((200, 200), np.float32)
    difference[150:156, 30:170] = 80.0  # print residue along a line of text
    difference[40:70, 120:150] = 45.0  # the smear
    inside = np.ones((200, 200), np.uint8)
    disagreeing = np.zeros((200, 200), bool)
    disagreeing[42:68, 122:148] = True
    explained = [difference]  # no global processing explains either

    plain = same_photo._changed_pixels(difference, inside, 0.5, explained=explained)
    guided = same_photo._changed_pixels(
        difference, inside, 0.5, explained=explained, disagreeing=disagreeing
    )

    assert plain[152, 100] and not plain[55, 135]
    ys, xs = np.nonzero(guided)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (40, 69, 120, 149)
    # Where nothing changed disagrees, the changes are read as before.
    elsewhere = np.zeros((200, 200), bool)
    elsewhere[0:10, 0:10] = True
    unguided = same_photo._changed_pixels(
        difference, inside, 0.5, explained=explained, disagreeing=elsewhere
    )
    assert (unguided == plain).all()


def test_an_edit_of_fragments_a_pixel_apart_is_one_region() -> None:
    # Text removed by inpainting: its letters differ, each too small to count alone.
    difference = np.zeros((200, 200), np.float32)
    for y in range(80, 100, 4):
        for x in range(60, 130, 4):
            difference[y : y + 3, x : x + 3] = 40.0
    inside = np.ones((200, 200), np.uint8)

    edited = same_photo._changed_pixels(difference, inside, 0.5, explained=[difference])

    ys, xs = np.nonzero(edited)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (80, 98, 60, 130)


def test_a_line_along_a_small_crops_edge_is_not_the_edit() -> None:
    # A crop showing a fifth of the frame's width: JPEG bleeds the border given to it into
    # its top rows, a strong line along its whole top edge (under a quarter of the frame's
    # width, most of the crop's), and a fainter stain inside it is the edit.
    difference = np.zeros((240, 240), np.float32)
    inside = np.zeros((240, 240), np.uint8)
    inside[100:200, 100:150] = 1
    difference[102:108, 102:148] = 90.0  # the bleed along the crop's top edge
    difference[150:165, 115:135] = 40.0  # the stain

    edited = same_photo._changed_pixels(difference, inside, 0.5, explained=[difference])

    ys, xs = np.nonzero(edited)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (150, 164, 115, 134)


def test_damage_the_crops_edge_cuts_through_is_still_the_edit() -> None:
    # The same small crop with a stain its top edge cuts through: as deep as it is wide,
    # no line along the edge, so it stays the edit over a weaker speck inside.
    difference = np.zeros((240, 240), np.float32)
    inside = np.zeros((240, 240), np.uint8)
    inside[100:200, 100:150] = 1
    difference[102:127, 110:140] = 90.0  # the stain, cut by the crop's top edge
    difference[175:181, 120:126] = 40.0  # a speck of residue

    edited = same_photo._changed_pixels(difference, inside, 0.5, explained=[difference])

    ys, xs = np.nonzero(edited)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (102, 126, 110, 139)


@pytest.mark.parametrize("photo", ["astronaut", "coffee"])
@pytest.mark.parametrize("radius", [9, 16], ids=["small", "large"])
def test_the_region_hugs_the_pixels_that_really_changed(
    photo: str, radius: int, shop: OriginalIndex
) -> None:
    # A stain found on the blurred difference spread 2-4 px past its edge (1-2 work px);
    # its outline read again at the pixel lies within one work pixel (2 px here).
    original = PHOTOS[photo]()
    painted = original.copy()
    x, y = CRACK_AT[photo]
    ImageDraw.Draw(painted).ellipse(
        (x - radius, y - radius, x + 2 * radius, y + radius), (90, 60, 40)
    )
    stain = _changed_box(original, painted)

    analysis = _analyse(painted, 92, shop)

    assert analysis.region is not None
    x0, y0, w, h = analysis.region
    edges = (x0, y0, x0 + w, y0 + h)
    true_edges = (stain[0], stain[1], stain[0] + stain[2], stain[1] + stain[3])
    assert max(abs(a - b) for a, b in zip(edges, true_edges, strict=True)) <= 2
