"""Find a small claim inside an original by correlation, where features cannot.

Pure: no Django. A crop of a small catalog or studio image (COIL-100's objects are 128 px)
keeps too few corners for ORB to fit: the held-out run's misses were crops of 72-117 px
with 15-44 features, whose original was nonetheless the one they voted for most. Such a
crop is the original's own pixels at the original's scale, perhaps turned a few degrees
(an editor's straighten, with its corners filled), so normalised cross-correlation over a
few angles finds where it lies. This only proposes a placement: the same-photograph test
(``forensics.same_photo``) decides whether the claim is a copy, as for every candidate.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: Angles (degrees) the original is turned by before the claim is searched in it: a
#: straightened or tilted crop (the held-out benchmark turns by 2-12°). Three degrees
#: apart, a 128 px crop is at most a pixel and a half off at its edge.
SEARCH_ANGLES = (0.0, -3.0, 3.0, -6.0, 6.0, -9.0, 9.0, -12.0, 12.0)
#: A claim with less contrast than this (grey-level standard deviation) is too flat for
#: its correlation peak to say where it lies.
MIN_CONTRAST = 4.0
#: The corners a turn fills (white or black, kept by the editor) are left out of the
#: correlation: pixels within this many grey levels of pure white or black, connected to
#: a corner of the claim.
FILL_TOLERANCE = 6


def _turned(original: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """``original`` turned by ``degrees`` on a canvas holding all of it (edges replicated),
    and the 3x3 map from original pixels to the turned canvas."""
    h, w = original.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    nw, nh = math.ceil(w * cos + h * sin), math.ceil(w * sin + h * cos)
    turn[0, 2] += nw / 2.0 - w / 2.0
    turn[1, 2] += nh / 2.0 - h / 2.0
    canvas = cv2.warpAffine(
        original, turn, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return canvas, np.vstack([turn, [0.0, 0.0, 1.0]])


def _filled_corners(claim: np.ndarray) -> np.ndarray | None:
    """Where the claim holds the flat white or black a turn filled its corners with
    (bool), or None when no corner is so filled."""
    h, w = claim.shape[:2]
    grey = np.clip(claim, 0, 255).astype(np.uint8)
    fill = np.zeros((h + 2, w + 2), np.uint8)
    tol = (FILL_TOLERANCE,) * 4
    for x, y in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)):
        value = int(grey[y, x])
        if (value >= 255 - FILL_TOLERANCE or value <= FILL_TOLERANCE) and not fill[y + 1, x + 1]:
            flags = 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
            cv2.floodFill(grey, fill, (x, y), 0, tol, tol, flags)
    filled = fill[1:-1, 1:-1].astype(bool)
    return filled if filled.any() else None


def locate_claim(claim: np.ndarray, original: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Where ``claim`` lies in ``original`` at the original's scale: the 3x3 map from claim
    pixels to original pixels and the normalised cross-correlation there (-1..1).

    Both are grey images (uint8 or float32). Returns ``None`` when the claim is larger
    than the original even turned on its canvas (a turned crop may be wider than the
    original it was cut from), or too flat to place (MIN_CONTRAST).
    """
    claim_f = np.asarray(claim, np.float32)
    original_f = np.asarray(original, np.float32)
    ch, cw = claim_f.shape[:2]
    if float(claim_f.std()) < MIN_CONTRAST:
        return None
    # With the corners a turn filled left out, and whole: a white or black backdrop the
    # original shares touches the corners just as a fill does.
    masks: list[np.ndarray | None] = [None]
    filled = _filled_corners(claim_f)
    if filled is not None and filled.mean() <= 0.5:
        masks.append((~filled).astype(np.float32))
    best: tuple[float, np.ndarray] | None = None
    for degrees in SEARCH_ANGLES:
        canvas, to_canvas = _turned(original_f, degrees)
        if canvas.shape[0] < ch or canvas.shape[1] < cw:
            continue
        for mask in masks:
            scores = cv2.matchTemplate(canvas, claim_f, cv2.TM_CCOEFF_NORMED, mask=mask)
            # A correlation is undefined (inf, nan) where a window is flat.
            scores = np.nan_to_num(scores, nan=-1.0, posinf=-1.0, neginf=-1.0)
            _, peak, _, (x, y) = cv2.minMaxLoc(scores)
            if best is not None and peak <= best[0]:
                continue
            shift = np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])
            best = (float(peak), np.linalg.inv(to_canvas) @ shift)
    if best is None:
        return None
    return best[1], best[0]
