"""Pictures inside a screenshot, a collage, a border or a photographed screen: found
(``picture_regions``) and matched at their own scale through the one analysis
(``forensics.pipeline.analyse_claim``)."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from forensics.matching import ClaimMatch
from forensics.original_index import OriginalIndex
from forensics.pipeline import analyse_claim, claim_could_match
from forensics.screening import build_file_index
from forensics.subpictures import BORDER_BLEED, Box, _sides, better_match, picture_regions
from tests.forensics.engine_images import iou, label_product, paint_damage, photographed

Rect = tuple[int, int, int, int]  # x, y, w, h

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
WORDS = ("hello", "the", "parcel", "came", "today", "but", "box", "was", "broken", "see", "photo")


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skdata, name)())


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def chat_screenshot(
    picture: Image.Image, share: float, *, dark: bool, seed: int
) -> tuple[Image.Image, Rect]:
    """A 1080×2340 phone chat: status and app bars, text bubbles, the picture (``share``
    of the width) in a bubble with its time, more bubbles, the input bar."""
    rng = np.random.default_rng(seed)
    width, height = 1080, 2340
    page = (14, 17, 20) if dark else (236, 229, 221)
    ink = (225, 225, 225) if dark else (20, 20, 20)
    bubbles = ((38, 45, 52), (0, 92, 75)) if dark else ((255, 255, 255), (220, 248, 198))
    screen = np.zeros((height, width, 3), np.uint8)
    screen[:] = page
    cv2.rectangle(screen, (0, 0), (width, 70), (0, 0, 0) if dark else (245, 245, 245), -1)
    cv2.putText(screen, "12:41", (40, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.2, ink, 2, cv2.LINE_AA)
    cv2.rectangle(screen, (0, 70), (width, 220), (32, 44, 51) if dark else (0, 128, 105), -1)
    cv2.circle(screen, (120, 145), 45, (180, 140, 120), -1)
    cv2.putText(
        screen, "Seller support", (190, 160), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 3
    )

    def text_bubble(top: int) -> int:
        lines = [" ".join(rng.choice(WORDS, int(rng.integers(3, 6)))) for _ in range(2)]
        wide = max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, 1.3, 2)[0][0] for t in lines)
        mine = bool(rng.integers(2))
        left = width - wide - 100 if mine else 40
        cv2.rectangle(screen, (left, top), (left + wide + 60, top + 160), bubbles[mine], -1)
        for i, text in enumerate(lines):
            cv2.putText(
                screen,
                text,
                (left + 30, top + 65 + 60 * i),
                cv2.FONT_HERSHEY_SIMPLEX,
                1.3,
                ink,
                2,
                cv2.LINE_AA,
            )
        return top + 190

    top = text_bubble(text_bubble(260))
    pw = round(width * share)
    shown = picture.resize(
        (pw, round(picture.height * pw / picture.width)), Image.Resampling.LANCZOS
    )
    left = width - pw - 52 if seed % 2 else 52
    cv2.rectangle(
        screen, (left - 12, top - 12), (left + pw + 12, top + shown.height + 60), bubbles[1], -1
    )
    cv2.putText(
        screen,
        "12:42",
        (left + pw - 90, top + shown.height + 45),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.8,
        ink,
        1,
        cv2.LINE_AA,
    )
    screen[top : top + shown.height, left : left + pw] = np.asarray(shown)
    box = (left, top, pw, shown.height)
    top += shown.height + 100
    while top < height - 400:
        top = text_bubble(top)
    cv2.rectangle(screen, (0, height - 160), (width, height), (240, 240, 240), -1)
    cv2.rectangle(screen, (30, height - 135), (width - 160, height - 35), (255, 255, 255), -1)
    cv2.putText(
        screen, "Message", (70, height - 70), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (130, 130, 130), 2
    )
    return Image.fromarray(screen), box


def collage(
    pictures: list[Image.Image], columns: int, rows: int, gutter: int
) -> tuple[Image.Image, list[Rect]]:
    """Tiles of 600×520 (each picture cropped to fill), ``gutter`` white pixels apart."""
    tw, th = 600, 520
    canvas = Image.new(
        "RGB", (columns * tw + (columns + 1) * gutter, rows * th + (rows + 1) * gutter), "white"
    )
    boxes = []
    for k, picture in enumerate(pictures[: columns * rows]):
        r, c = divmod(k, columns)
        scale = max(tw / picture.width, th / picture.height)
        filled = picture.resize(
            (max(tw, round(picture.width * scale)), max(th, round(picture.height * scale))),
            Image.Resampling.LANCZOS,
        )
        left, top = (filled.width - tw) // 2, (filled.height - th) // 2
        x, y = gutter + c * (tw + gutter), gutter + r * (th + gutter)
        canvas.paste(filled.crop((left, top, left + tw, top + th)), (x, y))
        boxes.append((x, y, tw, th))
    return canvas, boxes


def found(boxes: list[Box]) -> list[Rect]:
    return [(b.x, b.y, b.w, b.h) for b in boxes]


@pytest.mark.parametrize("share", [0.2, 0.3, 0.45, 0.6])
@pytest.mark.parametrize("name", PHOTOS)
def test_the_picture_inside_a_chat_screenshot_is_found(name: str, share: float) -> None:
    dark = PHOTOS.index(name) % 2 == 0
    screen, box = chat_screenshot(photo(name), share, dark=dark, seed=PHOTOS.index(name))
    image = decoded(jpeg(screen))

    regions = picture_regions(image)

    assert regions, "no region"
    assert len(regions) <= 4
    assert max(iou(r, box) for r in found(regions)) >= 0.8
    assert all(r.layout == "screenshot" for r in regions)


@pytest.mark.parametrize("gutter", [0, 12])
@pytest.mark.parametrize(("columns", "rows"), [(2, 2), (3, 1)])
def test_every_tile_of_a_collage_is_found(columns: int, rows: int, gutter: int) -> None:
    pictures = [photo(n) for n in PHOTOS]
    image, boxes = collage(pictures, columns, rows, gutter)

    regions = picture_regions(decoded(jpeg(image)))

    assert len(regions) == len(boxes)
    for box in boxes:
        assert max(iou(r, box) for r in found(regions)) >= 0.8
    assert all(r.layout == "collage" for r in regions)


@pytest.mark.parametrize("dark", [False, True])
def test_a_product_on_white_inside_a_bubble_is_found_whole(dark: bool) -> None:
    """The listing's white backdrop meets the bubble with no edge between them: a region
    holds the whole product, and lies within the bubble."""
    listing = label_product()  # the coffee artwork at (110, 80, 180, 240) on 400×400 white
    screen, (x, y, w, h) = chat_screenshot(listing, 0.3, dark=dark, seed=1)
    s = w / listing.width
    art = (x + 110 * s, y + 80 * s, x + 290 * s, y + 320 * s)
    bubble = (x - 14, y - 14, x + w + 14, y + h + 62)

    regions = picture_regions(decoded(jpeg(screen)))

    def holds_the_product(r: Box) -> bool:
        slack = 0.02 * w
        return (
            r.x - slack <= art[0] and r.y - slack <= art[1]
            and r.x + r.w + slack >= art[2] and r.y + r.h + slack >= art[3]
            and r.x >= bubble[0] and r.y >= bubble[1]
            and r.x + r.w <= bubble[2] and r.y + r.h <= bubble[3]
        )  # fmt: skip

    assert any(holds_the_product(r) for r in regions), found(regions)


def test_a_dark_picture_in_a_dark_chat_is_framed_by_its_bubbles_thin_outline() -> None:
    """A dark-mode page and a picture on black differ by less than a frame's step; the
    bubble's outline of two pixels, cut through by the box (as the analysis decode's
    resampling leaves it), frames the picture on every side."""
    rng = np.random.default_rng(0)
    page = np.zeros((160, 160, 3), np.uint8)
    page[:] = (11, 20, 26)
    page[30:130, 30:130] = (30, 43, 50)  # the bubble's outline
    page[32:128, 32:128] = (24, 25, 24)  # the picture's dark backdrop
    page[60:100, 60:100] = rng.integers(120, 255, (40, 40, 3))

    framed, on_border = _sides(page, Box(31, 31, 98, 98))

    assert (framed, on_border) == (4, 0)


def test_regions_are_found_on_the_analysis_decode_and_given_in_its_pixels() -> None:
    screen, box = chat_screenshot(photo("chelsea"), 0.3, dark=False, seed=3)
    small = decoded(jpeg(screen)).resize((236, 512), Image.Resampling.LANCZOS)
    factor = 236 / 1080

    regions = picture_regions(np.asarray(small))

    x, y, w, h = (round(v * factor) for v in box)
    scaled = (x, y, w, h)
    assert max(iou(r, scaled) for r in found(regions)) >= 0.8


@pytest.mark.parametrize("name", [*PHOTOS, "immunohistochemistry", "hubble_deep_field"])
def test_an_ordinary_photo_has_no_picture_inside(name: str) -> None:
    assert picture_regions(decoded(jpeg(photo(name)))) == []


def test_a_uniform_image_has_no_picture_inside() -> None:
    assert picture_regions(Image.new("RGB", (400, 300), (200, 30, 30))) == []
    assert picture_regions(np.zeros((20, 900, 3), np.uint8)) == []


# --- Through the one analysis -------------------------------------------------------------


@pytest.fixture(scope="module")
def listing_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("listing")
    files = {}
    for name in ("astronaut", "chelsea", "rocket"):
        files[name] = folder / f"{name}.jpg"
        files[name].write_bytes(jpeg(photo(name), 95))
    return files


@pytest.fixture(scope="module")
def shop(listing_files: dict[str, Path]) -> OriginalIndex:
    return build_file_index(list(listing_files.values())).index


def test_a_doctored_listing_photo_small_in_a_chat_screenshot_is_flagged(
    shop: OriginalIndex, listing_files: dict[str, Path]
) -> None:
    listing = decoded(listing_files["chelsea"].read_bytes())
    painted, mask = paint_damage(listing, (300, 120))
    screen, box = chat_screenshot(painted, 0.25, dark=True, seed=5)
    data = jpeg(screen)

    analysis = analyse_claim(data, shop)

    assert analysis.verdict.flagged and analysis.is_derived
    assert analysis.original is not None and analysis.original.key == str(listing_files["chelsea"])
    assert "screenshot" in analysis.transforms
    x, y, w, h = box
    assert analysis.region is not None
    rx, ry, rw, rh = analysis.region
    assert x - 2 <= rx and y - 2 <= ry and rx + rw <= x + w + 2 and ry + rh <= y + h + 2
    # The damage, scaled into the screenshot, is what the region points at.
    mx, my, mw, mh = (np.array(_bbox(mask)) * w / listing.width).round().astype(int)
    assert iou(analysis.region, (x + mx, y + my, mw, mh)) >= 0.4
    # Heatmap and aligned original are in the whole claim's analysis frame.
    assert analysis.heatmap is not None and analysis.heatmap.size == analysis.claim.size
    aligned = analysis.aligned_original
    assert aligned is not None and aligned.size == analysis.claim.size
    # The homography takes the picture's centre in the claim to the original's centre.
    assert analysis.match is not None and analysis.match.homography is not None
    scale = analysis.claim.width / screen.width
    centre = np.array([[[(x + w / 2) * scale - 0.5, (y + h / 2) * scale - 0.5]]])
    matrix = np.array(analysis.match.homography).reshape(3, 3)
    mapped = cv2.perspectiveTransform(centre, matrix)[0, 0]
    assert np.abs(mapped - np.array(listing.size) / 2).max() < 0.03 * max(listing.size)
    assert claim_could_match(data, shop)


def test_an_unrelated_photo_in_a_chat_screenshot_is_not_flagged(shop: OriginalIndex) -> None:
    screen, _ = chat_screenshot(photo("coffee"), 0.3, dark=False, seed=2)
    data = jpeg(screen)

    analysis = analyse_claim(data, shop)

    assert not analysis.verdict.flagged and analysis.match is None
    assert not claim_could_match(data, shop)


def _bbox(mask: Image.Image) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(np.asarray(mask) > 127)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _match(score: float, derived: bool) -> ClaimMatch:
    return ClaimMatch(
        original_key="k",
        method="features",
        hash_distance=None,
        inliers=40,
        same_photo_score=score,
        transforms=[],
        region=None,
        heatmap=None,
        is_derived=derived,
        texture_score=score,
    )


def test_a_picture_match_replaces_the_whole_claims_only_when_it_is_a_finding() -> None:
    """An edited copy or a near copy inside the claim is the claim's match; a weaker
    picture match never turns "no match" into "a different photograph of X"."""
    weak, near, copy = _match(0.4, False), _match(0.93, False), _match(0.99, True)

    assert better_match(None, weak) is None
    whole = _match(0.2, False)
    assert better_match(whole, weak) is whole
    assert better_match(None, near) is near
    assert better_match(near, copy) is copy
    assert better_match(copy, _match(0.999, True)) is not copy
    derived = _match(0.95, True)
    assert better_match(derived, near) is derived
    # A whole claim its structure recognised gives way only to a picture whose texture
    # decides, not to one its structure recognised a little higher.
    from dataclasses import replace

    by_structure = replace(derived, texture_score=0.8)
    assert better_match(by_structure, replace(_match(0.97, True), texture_score=0.85)) is (
        by_structure
    )
    exact = replace(_match(0.97, True), texture_score=0.99)
    assert better_match(by_structure, exact) is exact


def object_on_black(seed: int) -> Image.Image:
    """A studio shot as COIL-100 takes them: a small object on a black 128×128 backdrop."""
    rng = np.random.default_rng(seed)
    canvas = np.zeros((128, 128, 3), np.uint8)
    y, x = int(rng.integers(20, 60)), int(rng.integers(10, 50))
    canvas[y : y + 50, x : x + 70] = np.asarray(photo("coffee").resize((70, 50)))
    return Image.fromarray(canvas)


def test_a_chat_page_is_no_collage_where_its_page_falls_at_thirds() -> None:
    """The benchmark's chat generator (seed 25) leaves the page clear at a third and two
    thirds of the screen: its strips are no collage's tiles (the page between their
    bubbles ends at the bubbles' edges on both sides), and the picture among them is found."""
    from benchmarks.disguises import Picture, chat_screenshot

    listing = object_on_black(25)
    made = chat_screenshot(
        Picture(listing, Image.new("L", listing.size, 255)), np.random.default_rng(25), None
    )  # the generator borrows no other photo (Sources) for a screenshot
    ys, xs = np.nonzero(np.asarray(made.mask))
    box = (int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
    assert made.encoded is not None

    regions = picture_regions(decoded(made.encoded))

    assert regions and all(r.layout == "screenshot" for r in regions), regions
    assert max(iou(r, box) for r in found(regions)) >= 0.3


def test_a_tight_crop_given_a_border_is_matched_as_the_crop_it_is(
    shop: OriginalIndex, listing_files: dict[str, Path]
) -> None:
    """Cropped to two fifths of the listing, then given a border: the border covers what
    the crop removed, so the whole claim is no copy of the frame; cut out of its border,
    the picture is the crop it is, and the damage is found in it."""
    listing = decoded(listing_files["chelsea"].read_bytes())
    painted, mask = paint_damage(listing, (250, 150))
    crop = painted.crop((120, 40, 380, 270))
    bordered = Image.new("RGB", (crop.width + 60, crop.height + 48), (190, 140, 96))
    bordered.paste(crop, (34, 26))
    data = jpeg(bordered)

    regions = picture_regions(decoded(data))
    analysis = analyse_claim(data, shop)

    assert [r.layout for r in regions] == ["border"]
    # The picture's box, cut BORDER_BLEED inside its outline, within the pixel or two JPEG
    # blurs that outline over.
    inset = np.array((34, 26, 294, 256)) + np.array((1, 1, -1, -1)) * BORDER_BLEED
    assert np.abs(np.array(regions[0].rect) - inset).max() <= 2
    assert analysis.verdict.flagged and analysis.is_derived
    assert analysis.original is not None and analysis.original.key == str(listing_files["chelsea"])
    assert {"cropped", "border"} <= set(analysis.transforms)
    mx, my, mw, mh = _bbox(mask)
    assert analysis.region is not None
    assert iou(analysis.region, (mx - 120 + 34, my - 40 + 26, mw, mh)) >= 0.5


def test_a_crop_given_a_saturated_border_is_matched_inside_the_colour_jpeg_bleeds_in(
    shop: OriginalIndex, listing_files: dict[str, Path]
) -> None:
    """A saturated border, saved as JPEG, bleeds its colour a few pixels into the picture
    (chroma subsampling, block ringing): cut along the outline, those edge rows no longer
    reproduce the listing, and the crop would be scored as a photograph peeled to fit. Cut
    BORDER_BLEED inside it, the picture is the crop it is."""
    listing = decoded(listing_files["astronaut"].read_bytes())
    painted, mask = paint_damage(listing, (420, 300))
    crop = painted.crop((300, 180, 512, 512))
    bordered = Image.new("RGB", (crop.width + 34, crop.height + 34), (0, 5, 218))
    bordered.paste(crop, (17, 17))

    analysis = analyse_claim(jpeg(bordered), shop)

    assert analysis.verdict.flagged and analysis.is_derived
    assert analysis.original is not None
    assert analysis.original.key == str(listing_files["astronaut"])
    assert {"cropped", "border"} <= set(analysis.transforms)
    mx, my, mw, mh = _bbox(mask)
    assert analysis.region is not None
    assert iou(analysis.region, (mx - 300 + 17, my - 180 + 17, mw, mh)) >= 0.5


def test_a_small_bordered_picture_is_one_region() -> None:
    """The picture inside a border is cut BORDER_BLEED inside its outline; the same
    picture read as framed is its outline, so it is not offered a second time."""
    picture = photo("astronaut").resize((48, 36))
    bordered = Image.new("RGB", (66, 54), (40, 170, 120))
    bordered.paste(picture, (9, 9))
    buffer = io.BytesIO()
    bordered.save(buffer, "PNG")

    regions = picture_regions(decoded(buffer.getvalue()))

    assert [r.layout for r in regions] == ["border"]


def test_a_crop_photographed_on_a_screen_is_matched_as_the_crop_it_is(
    shop: OriginalIndex, listing_files: dict[str, Path]
) -> None:
    """Cropped, then shown on a screen and photographed at an angle: the bezel lies where
    the crop removed the listing, so the whole claim disagrees with its frame there;
    straightened out of its outline, the picture is the crop it is."""
    listing = decoded(listing_files["chelsea"].read_bytes())
    painted, mask = paint_damage(listing, (250, 150))
    crop = painted.crop((90, 20, 420, 290))
    corners = ((70.0, 58.0), (402.0, 40.0), (420.0, 392.0), (52.0, 370.0))
    claim = photographed(crop, corners, (470, 430), seed=3)
    data = jpeg(claim, 88)

    regions = picture_regions(decoded(data))
    analysis = analyse_claim(data, shop)

    assert [r.layout for r in regions] == ["rephotographed"]
    assert analysis.verdict.flagged and analysis.is_derived
    assert analysis.original is not None and analysis.original.key == str(listing_files["chelsea"])
    assert "rephotographed" in analysis.transforms
    # The damage, carried through the crop and the screen's perspective.
    mx, my, mw, mh = _bbox(mask)
    quad = np.float32([[0, 0], [crop.width, 0], [crop.width, crop.height], [0, crop.height]])
    onto = cv2.getPerspectiveTransform(quad, np.float32(corners))
    box = np.float32([[mx, my], [mx + mw, my], [mx + mw, my + mh], [mx, my + mh]]) - (90, 20)
    seen = cv2.perspectiveTransform(box.reshape(-1, 1, 2), onto).reshape(-1, 2)
    x0, y0 = seen.min(axis=0)
    x1, y1 = seen.max(axis=0)
    assert analysis.region is not None
    assert iou(analysis.region, (int(x0), int(y0), int(x1 - x0), int(y1 - y0))) >= 0.5


def test_a_screen_photographed_at_an_angle_with_a_flat_bezel_is_straightened_not_cut_square(
    shop: OriginalIndex, listing_files: dict[str, Path]
) -> None:
    """A bezel of one colour reads as a border around the picture too; cut square inside
    it, a picture slanted by a few degrees keeps slivers of bezel in its corners. Its
    outline, straightened, is offered first."""
    listing = decoded(listing_files["chelsea"].read_bytes())
    painted, _mask = paint_damage(listing, (250, 150))
    crop = painted.crop((90, 20, 420, 290))
    corners = ((66.0, 54.0), (410.0, 44.0), (418.0, 382.0), (54.0, 370.0))
    flat = np.full((430, 470, 3), 30.0, np.float32)
    data = jpeg(photographed(crop, corners, (470, 430), surround=flat, seed=3), 75)

    regions = picture_regions(decoded(data))
    analysis = analyse_claim(data, shop)

    assert [r.layout for r in regions] == ["rephotographed", "border"]
    assert analysis.verdict.flagged and analysis.is_derived
    assert analysis.original is not None and analysis.original.key == str(listing_files["chelsea"])
    assert "rephotographed" in analysis.transforms


def test_a_picture_square_in_its_border_keeps_its_border_cut() -> None:
    # Its outline may be read a few pixels off square (a corner on the cat's ear) and be
    # offered as well; the border's cut, inside the colour JPEG bleeds in, stays.
    picture = Image.fromarray(skdata.chelsea()).resize((300, 200))
    bordered = Image.new("RGB", (360, 260), (30, 30, 30))
    bordered.paste(picture, (30, 30))

    regions = picture_regions(decoded(jpeg(bordered, 90)))

    border = [r for r in regions if r.layout == "border"]
    assert len(border) == 1
    assert 30 <= border[0].x <= 30 + BORDER_BLEED and 30 <= border[0].y <= 30 + BORDER_BLEED


def test_pictures_are_matched_unless_the_whole_claims_texture_decided_on_a_firm_fit(
    monkeypatch: pytest.MonkeyPatch, shop: OriginalIndex
) -> None:
    """A whole claim recognised by its structure alone (texture under the verdict) still has
    its pictures matched: one whose fine texture decides says more exactly what was changed
    and where, and replaces it. So has a whole screenshot whose texture decided but which a
    handful of feature matches placed: it may be a look-alike listing of the same series
    (the same carton in another colour, which a colour map explains; held-out seed 19: 11
    inliers on the wrong flavour, texture 0.978), and the picture matched at its own scale
    is the firmer evidence. A whole claim its texture decided on a firm fit is not cut up."""
    from dataclasses import replace

    from forensics import pipeline

    by_structure = replace(_match(0.96, True), texture_score=0.79, region=(0, 0, 9, 9))
    by_texture = replace(_match(0.999, True), texture_score=0.999, region=(40, 80, 30, 20))
    look_alike = replace(_match(0.978, True), original_key="green", inliers=11)
    picture = replace(_match(0.998, True), original_key="red", inliers=246)
    cases = (  # whole claim's match, the picture's, the claim's match, pictures asked
        (by_structure, by_texture, by_texture, True),
        (by_texture, by_texture, by_texture, False),
        (look_alike, picture, picture, True),
        (replace(look_alike, inliers=264), picture, None, False),
    )
    claim = Image.new("RGB", (64, 64))
    asked: list[bool] = []
    for whole, inside, expected, asked_for_pictures in cases:
        asked.clear()

        def pictures(*args: object, inside: ClaimMatch = inside, **kwargs: object) -> ClaimMatch:
            asked.append(True)
            return inside

        monkeypatch.setattr(pipeline, "match_subpictures", pictures)
        monkeypatch.setattr(pipeline, "claim_match", lambda *a, whole=whole, **k: whole)
        found = pipeline._claim_match(b"", claim, (64, 64), shop, max_pixels=1 << 20)
        assert found is (expected if expected is not None else whole)
        assert asked == ([True] if asked_for_pictures else [])


def _turned_crop(image: Image.Image, degrees: float, box: tuple[int, int, int, int]) -> Image.Image:
    """``box`` cut out of ``image`` turned by ``degrees`` about the box's centre (no fill
    in the cut: the box stays inside the turned picture)."""
    x0, y0, x1, y1 = box
    turn = cv2.getRotationMatrix2D(((x0 + x1) / 2, (y0 + y1) / 2), degrees, 1.0)
    rgb = np.asarray(image.convert("RGB"))
    turned = cv2.warpAffine(rgb, turn, (rgb.shape[1], rgb.shape[0]), flags=cv2.INTER_LINEAR)
    return Image.fromarray(turned[y0:y1, x0:x1])


def _on_a_screen_with_a_bezel(picture: Image.Image, bezel: int) -> Image.Image:
    """``picture`` inside a dark bezel ``bezel`` pixels wide, the screen photographed at an
    angle against a plain, evenly lit wall (the bezel is lit by the same glare as the
    picture, so it is not one colour)."""
    rgb = np.asarray(picture.convert("RGB"))
    framed = cv2.copyMakeBorder(rgb, *(bezel,) * 4, cv2.BORDER_CONSTANT, value=(24, 20, 28))
    yy, xx = np.mgrid[0:430, 0:470].astype(np.float32)
    wall = np.repeat((170.0 + 20.0 * xx / 470 + 10.0 * yy / 430)[..., None], 3, axis=2)
    return photographed(Image.fromarray(framed), SCREEN_CORNERS, (470, 430), surround=wall, seed=5)


SCREEN_CORNERS = ((70.0, 58.0), (402.0, 40.0), (420.0, 392.0), (52.0, 370.0))


def test_a_turned_crop_photographed_inside_a_screens_bezel_is_matched_without_the_bezel(
    shop: OriginalIndex, listing_files: dict[str, Path]
) -> None:
    """A crop turned before it was shown on a screen: the screen's outline holds the bezel,
    which laid over the listing falls slanted where the crop removed it, too slanted for
    whole rows to be trimmed off. The picture inside the bezel is offered next, and it is
    the turned crop it is."""
    listing = decoded(listing_files["chelsea"].read_bytes())
    painted, _mask = paint_damage(listing, (250, 150))
    crop = _turned_crop(painted, 9.0, (110, 40, 400, 280))
    data = jpeg(_on_a_screen_with_a_bezel(crop, 22), 88)

    regions = picture_regions(decoded(data))
    analysis = analyse_claim(data, shop)

    assert [r.layout for r in regions][:2] == ["rephotographed", "rephotographed"]
    outer, inner = regions[0], regions[1]
    assert inner.area < 0.85 * outer.area
    assert analysis.verdict.flagged and analysis.is_derived
    assert analysis.original is not None and analysis.original.key == str(listing_files["chelsea"])
