"""How a claim was made from the original: resized, cropped, rotated, mirrored, framed,
placed in a screenshot, re-photographed, colour-filtered.

Pure: no Django. Read from the *registered* warp of the same-photograph test
(``Comparison.warp``, sub-pixel after ECC and flow), not from the feature homography that
started it: on a small or symmetric product the features' fit can be several per cent off
in scale and degrees off in angle, and described from it a JPEG re-save of a ring was
"resized, cropped, rotated, given a border" (benchmark seed 7: 46 % of flagged doctored
copies described exactly right from the feature fit, see benchmarks/README.md).

Thresholds are calibrated by ``benchmarks/detection.py`` (its transform table); the
comment beside each says which run justified it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from disputes.same_photo import Comparison

#: Every name ``describe_transforms`` can return, in the order they are listed.
#: ("recompressed" is kept for findings stored by earlier versions.)
TRANSFORM_NAMES = (
    "resized",
    "cropped",
    "rotated",
    "mirrored",
    "border",
    "screenshot",
    "rephotographed",
    "colour_filtered",
    "recompressed",
)

#: Resized: claim pixels per original pixel (full sizes) differ from 1 by more than this.
#: Benchmark seed 7 (900 flagged doctored copies): copies never resized are within 0.028,
#: resized ones at least 0.101 away.
RESIZE_SHARE = 0.05
#: Rotated: the registered warp turns the picture by more than this (degrees); a
#: re-photograph's keystone alone reads as up to 3 degrees, so there the bar is higher.
#: Seed 7: unrotated copies within 1.1, rotated ones (2-15 degrees) from 2.35.
ROTATION_DEGREES = 1.5
ROTATION_DEGREES_REPHOTOGRAPHED = 3.5
#: Re-photographed: the original's frame lands as a keystoned quadrilateral — its corners
#: this far (share of its diagonal) from the best affine fit — or less keystoned but with
#: the camera's noise (sigma, grey levels, on the claim's flat areas). Seed 7: re-photographs
#: median keystone 0.007, every other copy 95 % under 0.0013; noise 0.90+ on three quarters
#: of re-photographs, under 0.79 on 95 % of the rest.
KEYSTONE_SHARE = 0.004
KEYSTONE_WITH_NOISE = 0.0015
NOISE_SIGMA = 0.85
#: Cropped: less than this share of the original's frame lies inside the claim (widened
#: by CROP_SLACK of its size on each side: the registered warp, fitted on the product,
#: can put a flat backdrop's far corners a pixel or two out), or the same-photograph test
#: reproduced less than CROP_COVERAGE of it (a crop then framed or placed in a screenshot
#: keeps the whole frame's footprint inside the claim). Seed 7, 900 flagged copies:
#: without the slack 9 % of "cropped" were uncropped copies, with it 3.6 %.
CROP_INSIDE = 0.99
CROP_SLACK = 0.005
CROP_COVERAGE = 0.95
#: Surroundings: claim pixels beyond the original's bounding box (a border, a screenshot's
#: page, a screen's bezel) count when they are over this share of the claim; they are a
#: uniform border when this share of them lies within SURROUND_TOLERANCE grey levels of
#: their median colour (median-filtered), otherwise a screenshot. A re-photograph's bezel
#: with glare is not uniform either: there a screenshot also needs the picture to fill less
#: than SCREENSHOT_PICTURE of the claim (a phone page: 0.2-0.45; a bezel: about 0.6).
SURROUND_SHARE = 0.03
SURROUND_UNIFORM = 0.9
SURROUND_TOLERANCE = 15.0
SCREENSHOT_PICTURE = 0.4
#: Colour-filtered: the fitted colour map departs from a plain gain — per-channel
#: ("chroma": warm, cool, sepia, desaturation) by more than CHROMA_SHIFT, or in overall
#: gain and offset ("tone": contrast, brightness) by more than TONE_SHIFT. A screen and a
#: camera change both on their own, so a re-photograph needs the larger *_REPHOTOGRAPHED
#: shifts. Seed 7, 900 flagged copies: chroma of filtered copies from 0.25 (5th
#: percentile), of unfiltered ones under 0.165 (95th); re-photographs alone up to 0.51.
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
) -> list[str]:
    """The edits that turn the original into the claim, as TRANSFORM_NAMES.

    ``claim`` is the claim as analysed (RGB, ``claim_size`` is its full oriented size);
    ``original_size`` the original's analysis size, the frame ``comparison`` was made in.
    """
    h = registered_homography(comparison, original_size)
    ch, cw = claim.shape[:2]
    ow, oh = original_size
    found: list[str] = []
    linear = h[:2, :2]
    det = float(np.linalg.det(linear))
    scale = math.sqrt(abs(det)) * claim_size[0] / cw
    if abs(scale - 1.0) > RESIZE_SHARE:
        found.append("resized")
    if det < 0:  # a reflection: described, then removed before reading the angle
        found.append("mirrored")
        linear = linear @ np.diag([-1.0, 1.0])
    corners = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], np.float64)
    quad = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), h).reshape(-1, 2)
    keystone = _keystone(corners, quad)
    rephotographed = keystone > KEYSTONE_SHARE or (
        keystone > KEYSTONE_WITH_NOISE and _noise_sigma(claim, quad) > NOISE_SIGMA
    )
    if rephotographed:
        found.append("rephotographed")
    angle = math.degrees(math.atan2(linear[1, 0] - linear[0, 1], linear[0, 0] + linear[1, 1]))
    if abs(angle) > (ROTATION_DEGREES_REPHOTOGRAPHED if rephotographed else ROTATION_DEGREES):
        found.append("rotated")
    inside, picture = _frame_inside_claim(quad, (cw, ch))
    if inside < CROP_INSIDE or comparison.coverage < CROP_COVERAGE:
        found.append("cropped")
    surround = _surroundings(claim, quad, rephotographed, picture)
    if surround:
        found.append(surround)
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


def _frame_inside_claim(quad: np.ndarray, claim_wh: tuple[int, int]) -> tuple[float, float]:
    """Share of the original's frame inside the claim, and the claim's share it covers."""
    cw, ch = claim_wh
    sx, sy = CROP_SLACK * cw, CROP_SLACK * ch
    rect = np.array([[-sx, -sy], [cw + sx, -sy], [cw + sx, ch + sy], [-sx, ch + sy]], np.float32)
    polygon = quad.astype(np.float32)
    if cv2.contourArea(polygon, oriented=True) < 0:  # a mirrored warp reverses the order
        polygon = polygon[::-1].copy()
    area = abs(cv2.contourArea(polygon))
    if area < 1e-6:
        return 0.0, 0.0
    overlap, _ = cv2.intersectConvexConvex(polygon, rect)
    return float(overlap) / area, float(overlap) / (cw * ch)


def _surroundings(
    claim: np.ndarray, quad: np.ndarray, rephotographed: bool, picture: float
) -> str | None:
    """ "border", "screenshot" or None: what the claim shows beyond the original's frame.

    Only pixels beyond the frame's bounding box count: the corners a rotation leaves
    inside it are the rotation's, not an added border.
    """
    ch, cw = claim.shape[:2]
    x0, y0 = np.clip(quad.min(axis=0), 0, [cw, ch]).astype(int)
    x1, y1 = np.ceil(np.clip(quad.max(axis=0), 0, [cw, ch])).astype(int)
    beyond = np.ones((ch, cw), bool)
    beyond[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = False
    if beyond.mean() <= SURROUND_SHARE:
        return None
    pixels = cv2.medianBlur(claim, 5)[beyond].astype(np.float32)
    median = np.median(pixels, axis=0)
    uniform = float((np.abs(pixels - median).max(axis=1) <= SURROUND_TOLERANCE).mean())
    if uniform < SURROUND_UNIFORM and (not rephotographed or picture < SCREENSHOT_PICTURE):
        return "screenshot"
    # A re-photograph's surroundings are the screen's bezel: not called a border.
    return None if rephotographed else "border"


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
