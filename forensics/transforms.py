"""How a claim was made from the original: resized, cropped, rotated, mirrored, framed,
placed in a screenshot, re-photographed, colour-filtered.

Pure: no Django. Read from the *registered* warp of the same-photograph test
(``Comparison.warp``, sub-pixel after ECC and flow), not from the feature homography that
started it: on a small or symmetric product the features' fit can be several per cent off
in scale and degrees off in angle, enough to call a plain JPEG re-save "resized,
cropped, rotated, given a border".

Thresholds are calibrated by ``benchmarks/detection.py`` (its transform table);
``benchmarks/README.md`` says which run justified each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from forensics.registration import rotation_degrees
from forensics.same_photo import Comparison

#: Every name ``describe_transforms`` can return, in the order they are listed.
#: ("recompressed" is kept for findings stored by earlier versions; "collage" is said by
#: ``forensics.subpictures`` of a picture matched as one tile of a collage.)
TRANSFORM_NAMES = (
    "resized",
    "cropped",
    "rotated",
    "mirrored",
    "border",
    "screenshot",
    "collage",
    "rephotographed",
    "colour_filtered",
    "recompressed",
)

#: Resized: claim pixels per original pixel (full sizes) differ from 1 by more than this.
RESIZE_SHARE = 0.05
#: Rotated: the registered warp turns the picture by more than this (degrees); a
#: re-photograph's keystone alone reads as up to 3 degrees, so there the bar is higher.
ROTATION_DEGREES = 1.5
ROTATION_DEGREES_REPHOTOGRAPHED = 3.5
#: Re-photographed: the frame's corners lie KEYSTONE_SHARE (of its diagonal) off the best affine
#: fit, or KEYSTONE_WITH_NOISE with camera noise over NOISE_SIGMA (grey levels, flat areas).
KEYSTONE_SHARE = 0.004
KEYSTONE_WITH_NOISE = 0.0015
NOISE_SIGMA = 0.85
#: Cropped: under CROP_INSIDE of the original's frame lies in the claim (widened by CROP_SLACK a
#: side, for the warp's misfit), or the same-photograph test reproduced under CROP_COVERAGE.
CROP_INSIDE = 0.99
CROP_SLACK = 0.005
CROP_COVERAGE = 0.95
#: Surroundings (beyond the picture's box, within any outer border) count over SURROUND_SHARE of
#: that area; a border when SURROUND_UNIFORM of them lie within SURROUND_TOLERANCE grey levels of
#: their median, else a screenshot (re-photographs: only if the picture fills < SCREENSHOT_PICTURE).
SURROUND_SHARE = 0.03
SURROUND_UNIFORM = 0.9
SURROUND_TOLERANCE = 15.0
SCREENSHOT_PICTURE = 0.4
#: Layers: a border is uniform lines of one colour, BORDER_MIN_SHARE of the longer side thick, a
#: line counting when LINE_INSIDE of it is in the claim; read at LAYER_SIDE px, LAYER_ROOM of
#: that side around the frame, from LAYER_GAP px out (the warp blurs the edge).
BORDER_MIN_SHARE = 0.02
LINE_INSIDE = 0.8
LAYER_SIDE = 256
LAYER_ROOM = 0.3
LAYER_GAP = 2
#: Colour-filtered: the colour map departs from a plain gain per channel (chroma) or in gain and
#: offset (tone) by more than these; a re-photograph, which changes both, needs *_REPHOTOGRAPHED.
CHROMA_SHIFT = 0.25
TONE_SHIFT = 0.08
CHROMA_SHIFT_REPHOTOGRAPHED = 0.6
TONE_SHIFT_REPHOTOGRAPHED = 0.25


def registered_homography(comparison: Comparison, original_size: tuple[int, int]) -> np.ndarray:
    """Original analysis px -> claim analysis px, from the comparison's registered warp."""
    ww, wh = comparison.work_size
    ow, oh = original_size
    h = comparison.work_to_claim() @ np.diag([ww / ow, wh / oh, 1.0])
    return h / h[2, 2]


def describe_transforms(
    comparison: Comparison,
    claim: np.ndarray,
    original_size: tuple[int, int],
    claim_size: tuple[int, int],
    original_full_size: tuple[int, int] | None = None,
) -> list[str]:
    """The edits that turn the original into the claim, as TRANSFORM_NAMES.

    ``claim`` is the claim as analysed (RGB, ``claim_size`` is its full oriented size);
    ``original_size`` the original's analysis size, the frame ``comparison`` was made in,
    and ``original_full_size`` its full size (if it differs).
    """
    h = registered_homography(comparison, original_size)
    ch, cw = claim.shape[:2]
    ow, oh = original_size
    found: list[str] = []
    linear = h[:2, :2]
    det = float(np.linalg.det(linear))
    # Claim pixels per original pixel at full size: both were analysed reduced.
    full_w = (original_full_size or original_size)[0]
    scale = math.sqrt(abs(det)) * (claim_size[0] / cw) * (ow / full_w)
    if abs(scale - 1.0) > RESIZE_SHARE:
        found.append("resized")
    if det < 0:  # a reflection: described; rotation_degrees reads the turn without it
        found.append("mirrored")
    corners = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], np.float64)
    quad = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), h).reshape(-1, 2)
    keystone = _keystone(corners, quad)
    rephotographed = keystone > KEYSTONE_SHARE or (
        keystone > KEYSTONE_WITH_NOISE and _noise_sigma(claim, quad) > NOISE_SIGMA
    )
    if rephotographed:
        found.append("rephotographed")
    angle = rotation_degrees(linear)
    if abs(angle) > (ROTATION_DEGREES_REPHOTOGRAPHED if rephotographed else ROTATION_DEGREES):
        found.append("rotated")
    inside = _frame_inside_claim(quad, (cw, ch))
    if inside < CROP_INSIDE or comparison.coverage < CROP_COVERAGE:
        found.append("cropped")
    found += _surroundings(claim, h, (ow, oh), quad, rephotographed)
    if _colour_filtered(comparison.colour_map, rephotographed):
        found.append("colour_filtered")
    return [t for t in TRANSFORM_NAMES if t in found]


def _keystone(corners: np.ndarray, quad: np.ndarray) -> float:
    """How far the mapped frame is from a parallelogram: corner error of the best affine
    fit, as a share of the quadrilateral's diagonal (0 for resizing, rotating, cropping)."""
    design = np.hstack([corners, np.ones((4, 1))])
    coef, *_ = np.linalg.lstsq(design, quad, rcond=None)
    error = float(np.abs(design @ coef - quad).max())
    extent = quad.max(axis=0) - quad.min(axis=0)
    return error / max(math.hypot(float(extent[0]), float(extent[1])), 1e-6)


def _noise_sigma(claim: np.ndarray, quad: np.ndarray) -> float:
    """Noise level of the picture's flatter half (Immerkaer's Laplacian estimate)."""
    grey = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY).astype(np.float32)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    laplacian = np.abs(cv2.filter2D(grey, -1, kernel))
    footprint = np.zeros(grey.shape, np.uint8)
    cv2.fillConvexPoly(footprint, np.round(quad).astype(np.int32), 1)
    inner = cv2.erode(footprint, np.ones((5, 5), np.uint8)).astype(bool)
    if inner.sum() < 100:
        return 0.0
    gradient = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    flat = inner & (gradient < np.median(gradient[inner]))
    if flat.sum() < 50:
        return 0.0
    return float(math.sqrt(math.pi / 2) * laplacian[flat].mean() / 6)


def _frame_inside_claim(quad: np.ndarray, claim_wh: tuple[int, int]) -> float:
    """Share of the original's frame inside the claim."""
    cw, ch = claim_wh
    sx, sy = CROP_SLACK * cw, CROP_SLACK * ch
    rect = np.array([[-sx, -sy], [cw + sx, -sy], [cw + sx, ch + sy], [-sx, ch + sy]], np.float32)
    polygon = quad.astype(np.float32)
    if cv2.contourArea(polygon, oriented=True) < 0:  # a mirrored warp reverses the order
        polygon = polygon[::-1].copy()
    area = abs(cv2.contourArea(polygon))
    if area < 1e-6:
        return 0.0
    overlap, _ = cv2.intersectConvexConvex(polygon, rect)
    return float(overlap) / area


@dataclass(frozen=True)
class _Run:
    """A run of uniform lines from one side: how thick, what ended it, its colour."""

    thickness: int
    #: "edge" (the claim ended), "change" (a line of another uniform colour), "content"
    #: (a line that is not uniform) or "open" (the lines looked at ran out).
    ending: str
    colour: np.ndarray | None


def _surroundings(
    claim: np.ndarray,
    h: np.ndarray,
    original_size: tuple[int, int],
    quad: np.ndarray,
    rephotographed: bool,
) -> list[str]:
    """ "border" and/or "screenshot": what the claim shows around the original's frame.

    Read as layers. A uniform ring hugging the frame, inside something else, is a border
    added before a screenshot, a re-photograph or a rotation; a uniform ring along the
    claim's own edges, around something else, is a border added after one. What lies
    beyond the frame's (and inner border's) bounding box within any outer border is then a
    uniform border, a screenshot's page, or a re-photograph's bezel (named neither).
    Only pixels beyond the bounding box count there: the corners a rotation leaves inside
    it are the rotation's, not an added border.
    """
    ch, cw = claim.shape[:2]
    smooth = cv2.medianBlur(claim, 5).astype(np.float32)
    found: list[str] = []
    frame = quad
    inner = _border_around_frame(smooth, h, original_size)
    if inner is not None:
        found.append("border")
        left, top, right, bottom = inner
        ow, oh = original_size
        ring = np.array(
            [[-left, -top], [ow + right, -top], [ow + right, oh + bottom], [-left, oh + bottom]]
        )
        frame = cv2.perspectiveTransform(ring.reshape(-1, 1, 2), h).reshape(-1, 2)
    x0, y0 = np.clip(frame.min(axis=0), 0, [cw, ch]).astype(int)
    x1, y1 = np.ceil(np.clip(frame.max(axis=0), 0, [cw, ch])).astype(int)
    area = (0, 0, cw, ch)
    outer = _border_along_edges(smooth, (x0, y0, x1, y1), rephotographed)
    if outer is not None:
        found.append("border")
        area = (outer[0], outer[1], cw - outer[2], ch - outer[3])
    ax0, ay0, ax1, ay1 = area
    beyond = np.zeros((ch, cw), bool)
    beyond[ay0:ay1, ax0:ax1] = True
    beyond[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = False
    inside_area = max(1, (ax1 - ax0) * (ay1 - ay0))
    if beyond.sum() > SURROUND_SHARE * inside_area:
        pixels = smooth[beyond]
        median = np.median(pixels, axis=0)
        uniform = float(_near(pixels, median).mean())
        picture = max(0, min(x1, ax1) - max(x0, ax0)) * max(0, min(y1, ay1) - max(y0, ay0))
        if uniform < SURROUND_UNIFORM:
            if not rephotographed or picture / inside_area < SCREENSHOT_PICTURE:
                found.append("screenshot")
        elif not rephotographed:  # a re-photograph's uniform surroundings are its bezel
            found.append("border")
    return list(dict.fromkeys(found))


def _border_around_frame(
    smooth: np.ndarray, h: np.ndarray, original_size: tuple[int, int]
) -> tuple[float, float, float, float] | None:
    """A uniform ring hugging the original's frame, inside something else: its thickness
    (left, top, right, bottom, original analysis px), or None.

    Read in the original's frame (the claim warped back, with room around it), where a
    border added before a re-photograph or a rotation is still an axis-aligned ring.
    """
    ow, oh = original_size
    f = min(1.0, LAYER_SIDE / max(ow, oh))
    fw, fh = round(ow * f), round(oh * f)
    pad = round(LAYER_ROOM * max(fw, fh))
    to_claim = (
        h @ np.diag([1 / f, 1 / f, 1.0]) @ np.array([[1, 0, -pad], [0, 1, -pad], [0, 0, 1.0]])
    )
    size = (fw + 2 * pad, fh + 2 * pad)
    flags = cv2.WARP_INVERSE_MAP
    back = cv2.warpPerspective(smooth, to_claim, size, flags=cv2.INTER_LINEAR | flags)
    inside = cv2.warpPerspective(
        np.ones(smooth.shape[:2], np.uint8), to_claim, size, flags=cv2.INTER_NEAREST | flags
    ).astype(bool)
    rect = (pad, pad, pad + fw, pad + fh)
    least = max(2.0, BORDER_MIN_SHARE * max(fw, fh))
    runs = _runs_outward(back, inside, rect, (0, 0, 0, 0))
    if not _ring_inside_something(runs, least):
        return None
    # The ring must be a ring: the line that ends each side must also be uniform across
    # the other sides' runs (a page's text bar under a picture is not a border's edge).
    runs = _runs_outward(back, inside, rect, tuple(r.thickness + LAYER_GAP for r in runs))
    if not _ring_inside_something(runs, least):
        return None
    left, top, right, bottom = ((r.thickness + LAYER_GAP) / f for r in runs)
    return left, top, right, bottom


def _runs_outward(
    back: np.ndarray,
    inside: np.ndarray,
    rect: tuple[int, int, int, int],
    widen: tuple[int, ...],
) -> list[_Run]:
    """Uniform runs outward from ``rect``'s left, top, right and bottom sides, from
    LAYER_GAP px out; each side's lines reach ``widen`` px past the neighbouring sides."""
    x0, y0, x1, y1 = rect
    wl, wt, wr, wb = widen
    gap = LAYER_GAP
    xs = slice(max(0, x0 - wl), x1 + wr)
    ys = slice(max(0, y0 - wt), y1 + wb)
    strips = [
        (back[ys, : x0 - gap][:, ::-1], inside[ys, : x0 - gap][:, ::-1], True),
        (back[: y0 - gap][::-1, xs], inside[: y0 - gap][::-1, xs], False),
        (back[ys, x1 + gap :], inside[ys, x1 + gap :], True),
        (back[y1 + gap :, xs], inside[y1 + gap :, xs], False),
    ]
    return _side_runs(strips)


def _ring_inside_something(runs: list[_Run], least: float) -> bool:
    """Whether four runs around a picture make a border inside something else: at least
    two sides ``least`` thick and one colour, each side ending in another uniform colour
    or the claim's edge, and at least one in another colour."""
    thick = [r for r in runs if r.thickness >= least]
    return (
        len(thick) >= 2
        and any(r.ending == "change" for r in runs)
        and all(r.ending in ("change", "edge") for r in runs)
        and all(r.ending == "edge" or r.thickness >= least for r in runs)
        and _one_colour(thick)
    )


def _border_along_edges(
    smooth: np.ndarray, picture: tuple[int, int, int, int], rephotographed: bool
) -> tuple[int, int, int, int] | None:
    """A uniform ring along the claim's edges that ends well before the picture (something
    lies between them): its thickness (left, top, right, bottom, claim px), or None.

    A re-photograph's bezel is such a ring too, around a photographed page; a border added
    after the re-photograph ends in the bezel's colour, so there the ring must end in a
    uniform colour on every side.
    """
    ch, cw = smooth.shape[:2]
    x0, y0, x1, y1 = picture
    inside = np.ones((ch, cw), bool)
    strips = [
        (smooth[:, :x0], inside[:, :x0], True),
        (smooth[:y0], inside[:y0], False),
        (smooth[:, x1:][:, ::-1], inside[:, x1:], True),
        (smooth[y1:][::-1], inside[y1:], False),
    ]
    runs = _side_runs(strips)
    least = max(2.0, BORDER_MIN_SHARE * max(cw, ch))
    endings = ("change",) if rephotographed else ("change", "content")
    room = (x0, y0, cw - x1, ch - y1)
    if any(
        r.ending not in endings or r.thickness < least or r.thickness > side - LAYER_GAP - 1
        for r, side in zip(runs, room, strict=True)
    ):
        return None
    if not _one_colour(runs):
        return None
    left, top, right, bottom = (r.thickness for r in runs)
    return left, top, right, bottom


def _side_runs(strips: list[tuple[np.ndarray, np.ndarray, bool]]) -> list[_Run]:
    """The uniform run of each side strip (image, inside-the-claim mask, whether its
    lines are columns), each read from its first row or column on."""
    return [
        _uniform_run(s.transpose(1, 0, 2), v.T) if columns else _uniform_run(s, v)
        for s, v, columns in strips
    ]


def _uniform_run(lines: np.ndarray, inside: np.ndarray) -> _Run:
    """How many of ``lines`` (lines x span x 3), from the first, are one uniform colour
    within the claim, and what ended the run.

    Each line is held against the line LAYER_GAP + 1 before it, so a slow gradient (a
    screen's glare) stays one run while a step, blurred over a few lines, ends it; past a
    non-uniform line the next LAYER_GAP lines are looked at before calling it content.
    """
    stats = _LineStats(lines, inside)
    colours: list[np.ndarray] = []
    for i in range(len(lines)):
        reference = colours[max(0, i - 1 - LAYER_GAP)] if colours else None
        kind, median = stats.kind(i, reference)
        if kind == "same":
            colours.append(median)
            continue
        if kind == "content" and reference is not None:
            for j in range(i + 1, min(i + 1 + LAYER_GAP, len(lines))):
                later, _ = stats.kind(j, reference)
                if later in ("edge", "change"):
                    return _Run(i, later, colours[0])
        return _Run(i, kind, colours[0] if colours else None)
    return _Run(len(lines), "open", colours[0] if colours else None)


class _LineStats:
    """Per line of a strip: the share inside the claim, the median colour and the share
    of pixels near it; computed a block of lines at a time, as a run reaches them."""

    BLOCK = 16

    def __init__(self, lines: np.ndarray, inside: np.ndarray) -> None:
        self.lines, self.inside = lines, inside
        n = len(lines)
        self.share = np.zeros(n)
        self.median = np.zeros((n, 3), np.float32)
        self.uniform = np.zeros(n)
        self.done = 0

    def kind(self, i: int, colour: np.ndarray | None) -> tuple[str, np.ndarray]:
        """Line ``i`` against a run's colour: "edge", "content", "change" or "same"."""
        while i >= self.done:
            self._block()
        if self.share[i] < LINE_INSIDE:
            return "edge", self.median[i]
        if self.uniform[i] < SURROUND_UNIFORM:
            return "content", self.median[i]
        if colour is not None and np.abs(self.median[i] - colour).max() > SURROUND_TOLERANCE:
            return "change", self.median[i]
        return "same", self.median[i]

    def _block(self) -> None:
        rows = slice(self.done, min(self.done + self.BLOCK, len(self.lines)))
        lines, inside = self.lines[rows], self.inside[rows]
        share = inside.mean(axis=1)
        self.share[rows] = share
        whole = share == 1.0  # the usual case, done for the block at once
        if whole.any():
            median = np.median(lines[whole], axis=1)
            self.median[rows][whole] = median
            self.uniform[rows][whole] = _near(lines[whole], median[:, None]).mean(axis=1)
        for k in np.flatnonzero(~whole & (share >= LINE_INSIDE)):
            pixels = lines[k][inside[k]]
            median = np.median(pixels, axis=0)
            self.median[rows.start + k] = median
            self.uniform[rows.start + k] = _near(pixels, median).mean()
        self.done = rows.stop


def _near(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Which pixels (last axis RGB) lie within SURROUND_TOLERANCE of ``colour``."""
    return np.abs(pixels - colour).max(axis=-1) <= SURROUND_TOLERANCE


def _one_colour(runs: list[_Run]) -> bool:
    """Whether the runs (each with a colour) are all the same colour."""
    colours = [r.colour for r in runs if r.colour is not None]
    if len(colours) < len(runs):
        return False
    stacked = np.array(colours)
    return bool((stacked.max(axis=0) - stacked.min(axis=0)).max() <= SURROUND_TOLERANCE)


def _colour_filtered(colour_map: np.ndarray, rephotographed: bool) -> bool:
    """Whether the colour map original -> claim is a filter rather than a plain gain."""
    coefficients = colour_map[:3].astype(np.float64)
    offset = colour_map[3].astype(np.float64)
    gain = float(np.trace(coefficients)) / 3.0
    chroma = float(np.abs(coefficients - gain * np.eye(3)).sum()) + float(
        np.abs(offset - offset.mean()).sum() / 255.0
    )
    tone = abs(gain - 1.0) + abs(float(offset.mean())) / 255.0
    if rephotographed:
        return chroma > CHROMA_SHIFT_REPHOTOGRAPHED or tone > TONE_SHIFT_REPHOTOGRAPHED
    return chroma > CHROMA_SHIFT or tone > TONE_SHIFT
