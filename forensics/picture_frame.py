"""The frame around a claim's one picture: a border added around it, or the outline of a
screen or print it was photographed on.

Pure: no Django. A buyer who crops the merchant's photo and adds a border (or sends it
inside a plain frame: a printed margin, an evenly lit screen's bezel) sends a claim whose
picture sits inside a surround of one colour. Laid over the original, that surround covers
the part of the original's frame the crop removed, and the step from it to the picture
runs across the original where the original has none (its white or black backdrop, its
print): the claim disagrees along that step although every pixel of the picture is the
original's. ``picture_surround`` finds such a surround so that the structural test
(``forensics.structure``) leaves it and its step out; ``bordered_picture`` gives the
picture inside it to cut out and match on its own (``forensics.subpictures``).

A surround is accepted only when it is what a border is: one colour (flood-filled from
the claim's edges within SURROUND_TOLERANCE of where the fill began, and spanning at most
SURROUND_SPREAD), reaching along every side of the picture, and ending at a
straight-sided quadrilateral: the picture's frame, however turned or foreshortened. A
product stood against a wall and photographed is not peeled so: the light falls off
across a wall. What the claim alone cannot tell (a product on a plain backdrop looks
framed by it) the structural test settles against the original: a surround the original
shows too (its own backdrop) is not left out.

A picture on a screen or a print, photographed (``photographed_picture``), ends at a
strong step all round, foreshortened into any convex quadrilateral, and around it lies
what was around the screen or print: a bezel, a desk, a wall, lit unevenly (so not one
colour) but with no detail of its own. When the buyer cropped the merchant's photo before
photographing it, that surround lies inside the original's frame, where it disagrees
with the original everywhere it falls; the picture inside the outline, straightened out,
is the crop it is (``forensics.subpictures``). The outline is the screen's outer edge, so
the screen's bezel lies inside it too; the picture inside the bezel
(``picture_inside_bezel``: a second outline nested in the first) is offered as well.
"""

from __future__ import annotations

import cv2
import numpy as np

#: A surround's pixels lie within this many levels (per channel) of the colour where its
#: flood fill started, on the claim blurred by SMOOTHING: a border's JPEG noise stays
#: within it; a picture whose colours drift slowly towards the border's does not lead the
#: fill into it (as a neighbour-to-neighbour step would).
SURROUND_TOLERANCE = 6
#: Gaussian sigma (claim analysis px) against sensor noise and JPEG before the flood.
SMOOTHING = 1.0
#: The picture inside a surround: at least this share of the claim, and at most
#: PICTURE_MAX_SHARE (some surround must be there).
PICTURE_MIN_SHARE = 0.2
PICTURE_MAX_SHARE = 0.97
#: The picture's outline is a quadrilateral when a four-cornered polygon within
#: QUAD_TOLERANCE of its perimeter covers the same pixels to QUAD_FILL (intersection over
#: union).
QUAD_TOLERANCE = 0.02
QUAD_FILL = 0.9
#: A surround must reach at least this share of each side of what it surrounds.
SIDE_REACH = 0.5
#: A surround is one colour: the 10th to 90th percentile of each channel over it span at
#: most this many levels. A border added to a photo spans 0-4 (JPEG); a product stood
#: against a wall and photographed shows the light falling off across it (19-27 on
#: benchmarks/plain_wall.py), and so does a screen's bezel under glare (14-64), which is
#: therefore not peeled.
SURROUND_SPREAD = 10.0
#: Seeds along the edge are taken this many pixels apart.
SEED_SPACING = 3
#: Inside a peeled border the next one is sought from this many pixels in from its
#: outline: the step between the two is blurred over a pixel or two.
SEED_DEPTH = 3
#: Border inside border (a photo framed, then given a border again): peeled this many
#: times at most.
MAX_LAYERS = 3
#: A photographed picture's outline is sought among the edges (Canny, these hysteresis
#: levels) of the claim's grey blurred by OUTLINE_SMOOTHING: the step from a bezel or a
#: desk to the picture is tens of levels even where the picture is dark, while sensor
#: noise and the glare's slow fall-off stay under them.
OUTLINE_SMOOTHING = 1.5
OUTLINE_EDGES = (20, 60)
#: At least this share of the outline's perimeter lies on those edges (dilated by a
#: pixel): a straight step all round, not four corners a contour happened to meet.
OUTLINE_SUPPORT = 0.8
#: The surround has no detail of its own: the median local deviation of its band-passed
#: grey (sigma 1 less sigma 3, in 7 x 7 windows) is at most this many levels. Re-photographs'
#: bezels, desks and walls measured 0.0-0.6 on the held-out benchmark's claims; a shelf, a
#: hand or a room behind the product has texture far above it.
SURROUND_TEXTURE = 1.5
#: The surround is measured this many pixels away from the outline (the blurred step) and
#: from the claim's edges.
SURROUND_GAP = 4
#: The picture inside a photographed screen's bezel (``picture_inside_bezel``) covers at
#: least this share of the screen's outline (a bezel of 3-7 % of the screen's side, seen
#: at 35 degrees, leaves over 0.7) and lies at least this many pixels inside it at every
#: corner: the outline's own dilated step is about three pixels wide, and its inner side
#: is a contour too.
BEZEL_PICTURE_SHARE = 0.5
BEZEL_MIN_DEPTH = 6.0


def _flood(image: np.ndarray, filled: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """``filled`` grown by flood fills from every not yet filled seed (bool mask)."""
    h, w = filled.shape
    mask = np.zeros((h + 2, w + 2), np.uint8)
    mask[1:-1, 1:-1] = filled
    step = (SURROUND_TOLERANCE,) * 3
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    ys, xs = np.nonzero(seeds)
    # Every SEED_SPACING-th seed: a surround is far wider than that.
    for y, x in zip(ys[::SEED_SPACING].tolist(), xs[::SEED_SPACING].tolist(), strict=True):
        if not mask[y + 1, x + 1]:
            cv2.floodFill(image, mask, (x, y), (0, 0, 0), step, step, flags)
    return mask[1:-1, 1:-1] > 0


def _eroded(mask: np.ndarray, depth: int) -> np.ndarray:
    """``mask`` (bool) without the pixels within ``depth`` of its outside."""
    size = 2 * depth + 1
    return np.asarray(cv2.erode(mask.astype(np.uint8), np.ones((size, size), np.uint8)) > 0)


def _four_corners(hull: np.ndarray) -> np.ndarray | None:
    """The convex hull's outline simplified to within QUAD_TOLERANCE of its perimeter, when
    that leaves four corners (as OpenCV gives points: N x 1 x 2); None otherwise."""
    corners = cv2.approxPolyDP(hull, QUAD_TOLERANCE * cv2.arcLength(hull, True), True)
    return corners if len(corners) == 4 else None


def _quadrilateral(picture: np.ndarray) -> np.ndarray | None:
    """The four corners of the picture's outline (float32, 4 x 2), or None when the
    largest part of ``picture`` is no filled quadrilateral."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        picture.astype(np.uint8), connectivity=8
    )
    if count <= 1:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    part = (labels == largest).astype(np.uint8)
    contours, _ = cv2.findContours(part, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = max(contours, key=cv2.contourArea)
    corners = _four_corners(cv2.convexHull(outline))
    if corners is None:
        return None
    # Compared pixel for pixel: a polygon's area through the pixel centres falls half a
    # pixel short all round, which on a small picture is several per cent.
    quad = np.zeros(part.shape, np.uint8)
    cv2.fillConvexPoly(quad, corners.reshape(4, 2).astype(np.int32), 1)
    union = int(np.count_nonzero(quad | part))
    if not union or np.count_nonzero(quad & part) / union < QUAD_FILL:
        return None
    return corners.reshape(4, 2).astype(np.float32)


def _one_colour(pixels: np.ndarray) -> bool:
    """Whether these pixels (N x 3) are one colour (SURROUND_SPREAD)."""
    low, high = np.percentile(pixels, [10, 90], axis=0)
    return bool(np.all(high - low <= SURROUND_SPREAD))


def _all_around(surround: np.ndarray, inside: np.ndarray) -> bool:
    """Whether ``surround`` reaches SIDE_REACH of every side of the region ``inside``
    (bool mask) along its edge: the rows and columns just within it."""
    ys, xs = np.nonzero(inside)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    sides = (
        (surround[top, left : right + 1], inside[top, left : right + 1]),
        (surround[bottom, left : right + 1], inside[bottom, left : right + 1]),
        (surround[top : bottom + 1, left], inside[top : bottom + 1, left]),
        (surround[top : bottom + 1, right], inside[top : bottom + 1, right]),
    )
    return all(s[m].mean() >= SIDE_REACH if m.any() else False for s, m in sides)


def picture_surround(rgb: np.ndarray) -> np.ndarray | None:
    """Where the claim (RGB, its analysis decode) shows a smooth surround around one
    quadrilateral picture (bool mask, True outside the picture), or None when it shows none.

    Borders nested in borders (a bezel, then a border around the photo of it) are peeled
    one after another; the innermost picture is the one returned around.
    """
    h, w = rgb.shape[:2]
    image = cv2.GaussianBlur(rgb, (0, 0), SMOOTHING)
    inside = np.ones((h, w), bool)
    outside: np.ndarray | None = None
    for _ in range(MAX_LAYERS):
        if outside is None:  # seeds: the claim's edges
            edge = np.zeros((h, w), bool)
            edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
        else:  # a ring SEED_DEPTH in from the last outline (past its blurred step)
            edge = _eroded(inside, SEED_DEPTH) & ~_eroded(inside, SEED_DEPTH + 1)
        filled = _flood(image, ~inside, edge)
        surround = filled & inside
        # Measured where the seeds were: the last outline's blurred step is no one's.
        reach = inside if outside is None else _eroded(inside, SEED_DEPTH)
        if (
            not surround.any()
            or not _all_around(surround, reach)
            or not _one_colour(image[surround])
        ):
            break
        corners = _quadrilateral(inside & ~filled)
        if corners is None:
            break
        picture = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(picture, np.round(corners * 16).astype(np.int32), 1, cv2.LINE_8, 4)
        share = float(picture.mean())
        if not PICTURE_MIN_SHARE <= share <= PICTURE_MAX_SHARE * float(inside.mean()):
            break
        inside = picture.astype(bool)
        outside = ~inside
    return outside


def bordered_picture(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box (x, y, w, h) of the picture inside a border (``picture_surround``) when the
    picture stands upright in it (fills its box to QUAD_FILL), or None: such a picture can
    be cut out and matched on its own, as a crop (``forensics.subpictures``)."""
    surround = picture_surround(rgb)
    if surround is None:
        return None
    ys, xs = np.nonzero(~surround)
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    if float((~surround[y0:y1, x0:x1]).mean()) < QUAD_FILL:
        return None
    return x0, y0, x1 - x0, y1 - y0


def _ordered(corners: np.ndarray) -> np.ndarray:
    """Four corners clockwise around the outline, the one with the least x + y first: top
    left, top right, bottom right, bottom left for a picture turned less than 45° (turned
    further, it is straightened a quarter turn round, which the matcher's features and
    homography take in their stride)."""
    centre = corners.mean(axis=0)
    angles = np.arctan2(corners[:, 1] - centre[1], corners[:, 0] - centre[0])
    around = corners[np.argsort(angles)]  # clockwise in image coordinates (y down)
    first = int(np.argmin(around.sum(axis=1)))
    return np.roll(around, -first, axis=0).astype(np.float32)


def _outline_candidates(edges: np.ndarray) -> list[np.ndarray]:
    """Convex quadrilaterals (4 x 2, int) the edge map's contours outline, largest first,
    of PICTURE_MIN_SHARE to PICTURE_MAX_SHARE of the claim."""
    h, w = edges.shape
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    quads = []
    for contour in contours:
        _, _, bw, bh = cv2.boundingRect(contour)
        if bw * bh < PICTURE_MIN_SHARE * w * h:  # its hull is smaller still
            continue
        hull = cv2.convexHull(contour)
        if not PICTURE_MIN_SHARE * w * h <= cv2.contourArea(hull) <= PICTURE_MAX_SHARE * w * h:
            continue
        corners = _four_corners(hull)
        if corners is not None and cv2.isContourConvex(corners):
            quads.append(corners.reshape(4, 2))
    return sorted(quads, key=lambda q: -cv2.contourArea(q))


def _band_texture(grey: np.ndarray) -> np.ndarray:
    """Local deviation (7 x 7) of the band-passed grey (sigma 1 less sigma 3): detail,
    not the light's slow fall-off."""
    band = cv2.GaussianBlur(grey, (0, 0), 1.0) - cv2.GaussianBlur(grey, (0, 0), 3.0)
    mean = cv2.boxFilter(band, -1, (7, 7))
    return np.sqrt(np.maximum(cv2.boxFilter(band * band, -1, (7, 7)) - mean * mean, 0.0))


def _outline_edges(grey: np.ndarray) -> np.ndarray:
    """The edge map outlines are sought in (Canny on the grey blurred by OUTLINE_SMOOTHING,
    dilated by a pixel)."""
    smooth = cv2.GaussianBlur(grey, (0, 0), OUTLINE_SMOOTHING)
    edges = cv2.Canny(np.clip(smooth, 0, 255).astype(np.uint8), *OUTLINE_EDGES)
    return cv2.dilate(edges, np.ones((3, 3), np.uint8))


def _outline_supported(quad: np.ndarray, edges: np.ndarray) -> bool:
    """Whether OUTLINE_SUPPORT of the quadrilateral's perimeter lies on ``edges``."""
    outline = np.zeros(edges.shape, np.uint8)
    cv2.polylines(outline, [quad.astype(np.int32)], True, 1, 1)
    return bool(np.count_nonzero(edges[outline > 0]) >= OUTLINE_SUPPORT * np.count_nonzero(outline))


def photographed_picture(rgb: np.ndarray) -> np.ndarray | None:
    """The corners (float32, 4 x 2, ordered as ``_ordered`` says, in ``rgb``'s pixels) of
    a picture photographed on a screen or a print: a convex quadrilateral outline of
    PICTURE_MIN_SHARE to PICTURE_MAX_SHARE of the claim, a step along OUTLINE_SUPPORT of
    it, inside a surround without detail (SURROUND_TEXTURE); None when the claim shows
    none. ``rgb`` is the claim as 8-bit RGB (H x W x 3). The largest such outline is taken
    (a screen's, not a tile's inside it). The outline lies on the outer side of the
    dilated edge, a pixel or two beyond the step: cut out, the picture is cut inside it."""
    h, w = rgb.shape[:2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    edges = _outline_edges(grey)
    texture: np.ndarray | None = None
    gap = np.ones((2 * SURROUND_GAP + 1,) * 2, np.uint8)
    for quad in _outline_candidates(edges):
        if not _outline_supported(quad, edges):
            continue
        inside = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(inside, quad.astype(np.int32), 1)
        around = cv2.erode(1 - inside, gap, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        if np.count_nonzero(around) < 0.02 * w * h:
            continue  # the outline is the claim's edge: nothing around to tell by
        if texture is None:
            texture = _band_texture(grey)
        if float(np.median(texture[around])) <= SURROUND_TEXTURE:
            return _ordered(quad.astype(np.float32))
    return None


def picture_inside_bezel(rgb: np.ndarray, outline: np.ndarray) -> np.ndarray | None:
    """The corners (as ``photographed_picture`` gives them) of the picture inside the bezel
    of a screen photographed within ``outline`` (``photographed_picture``'s corners), or
    None when no such picture shows.

    The outline found is the screen's outer edge: its bezel lies inside it. Where the buyer
    cropped the merchant's photo before photographing it, that bezel, laid over the
    original, falls where the crop removed the picture and disagrees with it all along
    (the screen's glare and moire keep it from reading as one colour, which
    ``picture_surround`` needs). The picture is the largest convex quadrilateral outline
    inside ``outline`` by at least BEZEL_MIN_DEPTH at every corner, of BEZEL_PICTURE_SHARE
    of its area or more (and, as every outline, PICTURE_MIN_SHARE of the claim), with a
    step along OUTLINE_SUPPORT of it. A print or a carton
    photographed flat may show such an outline too (a label, a panel): the same-photograph
    test tells a cut of the merchant's photo from another photograph, as for any picture.
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    edges = _outline_edges(grey)
    frame = outline.astype(np.float32).reshape(-1, 1, 2)
    area = float(cv2.contourArea(frame))
    for quad in _outline_candidates(edges):
        if cv2.contourArea(quad.astype(np.float32)) < BEZEL_PICTURE_SHARE * area:
            break  # largest first: the rest are smaller still
        depths = [cv2.pointPolygonTest(frame, (float(x), float(y)), True) for x, y in quad]
        if min(depths) >= BEZEL_MIN_DEPTH and _outline_supported(quad, edges):
            return _ordered(quad.astype(np.float32))
    return None
