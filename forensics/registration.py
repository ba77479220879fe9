"""Sub-pixel registration of a claim onto the original it was matched to.

Pure: no Django. ``forensics.matching`` finds a homography from local features; it is a
pixel or more off on small or smooth images, and the same-photograph test compares fine
texture, which needs the claim registered to a fraction of a pixel. The feature warp is
refined by ECC (masked, coarse to fine; again when the first pass moved it far), then
corrected by a homography fitted to the dense optical flow left over.

Thresholds are calibrated by ``benchmarks/detection.py``; ``benchmarks/README.md`` says
which run justified each.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import cv2
import numpy as np

from forensics.colour_map import fit_colour

#: Alignment: a pixel differing by more than this (grey levels, blurred) at the feature
#: alignment is left out of the ECC refinement (painted damage must not steer it).
ALIGN_OUTLIER = 18.0
#: Alignment: a template missing the claim by more than ALIGN_OUTLIER at the median is
#: replaced by the one whose colour map follows the pixels that agree best when that one
#: misses by at most this share as much. A cropped picture photographed on a screen: 39-79
#: levels against 7-11 (held-out claims); another view of a scene (a stereo pair) misses
#: by 18 against 14, and keeps the template it had.
MAJORITY_TEMPLATE_GAIN = 0.5
#: Alignment: when ECC moved a frame corner by more than this (claim pixels), the mask of
#: disagreeing pixels was computed at a poor warp, and the refinement is run again.
REALIGN_SHIFT = 1.0
#: ... and only when the first pass's ECC reaches this: another photograph never aligns so well.
REALIGN_MIN_ECC = 0.8
#: An ECC result that moves a corner of the frame by more than this share of the frame's
#: diagonal has been thrown off (a smooth object on a dark backdrop agrees with itself
#: under a wild perspective), not corrected the fit: it is dropped. Held-out run: a
#: re-photographed bordered crop's 118-inlier fit was moved by a whole frame.
MAX_CORRECTION = 0.25
#: Flow step (see refine_by_flow): vectors where the original's gradient is at least this (grey
#: levels/px), at most FLOW_POINTS of them; the homography fit allows FLOW_RANSAC (work px).
FLOW_MIN_GRADIENT = 2.0
FLOW_POINTS = 4000
FLOW_RANSAC = 0.7
#: ... and the flow step runs only when ECC reaches this: another photograph never aligns so well.
FLOW_MIN_ECC = 0.9
#: A warp within SNAP_SCALE (scale, shear) and SNAP_PERSPECTIVE of a whole-pixel shift with flips
#: is snapped to it unless that correlates worse by more than SNAP_TIE (see _prefer_pixel_grid).
SNAP_SCALE = 0.02
SNAP_PERSPECTIVE = 1e-4
SNAP_TIE = 0.001
#: An affine warp is offered beside the refined homography (see affine_alternative) when
#: it puts a corner of the frame at least this many work pixels elsewhere.
AFFINE_MIN_SHIFT = 1.0


def _frame_inside(shape: tuple[int, ...], warp: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Work-frame pixels whose warped position lies inside the claim (eroded by one)."""
    flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    inside = cv2.warpPerspective(np.ones(shape[:2], np.uint8), warp, size, flags=flags)
    return cv2.erode(inside, np.ones((3, 3), np.uint8)).astype(bool)


def alignment_template(
    work: np.ndarray, claim: np.ndarray, warp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The ECC template and the mask of pixels it may use, at the feature alignment.

    The template is the original *rendered in the claim's colours* (a colour map fitted at
    the feature alignment): a sepia or channel filter changes grey levels differently per
    hue, and ECC on raw grey drifts to a wrong warp that correlates better. The mask leaves
    out pixels that disagree grossly — the painted damage: left in, ECC can raise its
    correlation by sliding the damage out of the overlap. When that template misses the
    claim by more than ALIGN_OUTLIER levels at the median (a cropped picture photographed
    on a screen: its bezel lies over a third of the original's frame and drags the colour
    map), the map followed by the pixels that agree best (``fit_colour``'s ``majority``)
    is taken instead if it misses by at most MAJORITY_TEMPLATE_GAIN as much.
    """
    wh, ww = work.shape[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpPerspective(claim, warp, (ww, wh), flags=flags)
    valid = _frame_inside(claim.shape, warp, (ww, wh))
    grey_w = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
    full = np.full((wh, ww), 255, np.uint8)
    if valid.sum() < 32:
        return grey_w, full
    pixels_c, pixels_o = warped[valid], work[valid]
    step = max(1, len(pixels_c) // 5000)
    target = cv2.cvtColor(warped, cv2.COLOR_RGB2GRAY)
    blurred_target = cv2.GaussianBlur(target, (0, 0), 2.0)

    def rendered_template(majority: bool) -> tuple[np.ndarray, np.ndarray, float]:
        matrix = fit_colour(pixels_o[::step], pixels_c[::step], majority=majority)
        rendered = np.clip(work.reshape(-1, 3) @ matrix[:3] + matrix[3], 0, 255)
        grey = cv2.cvtColor(rendered.reshape(work.shape).astype(np.float32), cv2.COLOR_RGB2GRAY)
        # Blurred a little more than the misregistration we still expect, so only gross
        # disagreement (not an edge a pixel off) is masked.
        diff = np.abs(cv2.GaussianBlur(grey, (0, 0), 2.0) - blurred_target)
        return grey, diff, float(np.median(diff[valid]))

    template, diff, level = rendered_template(False)
    if level > ALIGN_OUTLIER:
        alt = rendered_template(True)
        if alt[2] <= MAJORITY_TEMPLATE_GAIN * level:
            template, diff, level = alt
    outlier = valid & (diff > max(ALIGN_OUTLIER, 4.0 * level))
    outlier = cv2.dilate(outlier.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    if (valid & ~outlier).sum() < 0.2 * valid.sum():  # far off: nothing agrees, mask nothing
        return template, full
    return template, np.where(outlier, 0, 255).astype(np.uint8)


def _alignment_ncc(
    template: np.ndarray, target: np.ndarray, warp: np.ndarray, support: np.ndarray
) -> float:
    """Zero-mean correlation of the template with the target warped onto it, on ``support``."""
    h, w = template.shape
    warped = cv2.warpPerspective(
        target, warp, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    )
    if support.sum() < 32:
        return -1.0
    a = template[support].astype(np.float64)
    b = warped[support].astype(np.float64)
    a -= a.mean()
    b -= b.mean()
    return float((a * b).sum() / math.sqrt(max(float((a * a).sum() * (b * b).sum()), 1e-9)))


def _ecc(
    template: np.ndarray,
    target: np.ndarray,
    warp: np.ndarray,
    mask: np.ndarray,
    iterations: int,
    *,
    affine: bool = False,
) -> np.ndarray:
    """ECC from ``warp`` (3x3) with the homography motion model, or the affine one; the
    refined 3x3 warp. Raises ``cv2.error`` when it does not converge."""
    motion = cv2.MOTION_AFFINE if affine else cv2.MOTION_HOMOGRAPHY
    start = (warp[:2] if affine else warp).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-4)
    # The template mask needs OpenCV's findTransformECCWithMask (findTransformECC's own
    # mask is the *input* image's).
    find_ecc: Any = getattr(cv2, "findTransformECCWithMask", None)
    if find_ecc is None:  # OpenCV < 4.12: no template mask
        plain: Any = cv2.findTransformECC
        _, refined = plain(template, target, start, motion, criteria, None, 3)
    else:
        full = np.full(target.shape[:2], 255, np.uint8)
        _, refined = find_ecc(template, target, mask, full, start, motion, criteria, 3)
    out = refined.astype(np.float64)
    if affine:
        return np.vstack([out, [0.0, 0.0, 1.0]])
    return out / out[2, 2]


def refine_alignment(
    template: np.ndarray,
    target: np.ndarray,
    warp: np.ndarray,
    mask: np.ndarray,
    *,
    coarse: bool = True,
) -> tuple[np.ndarray, float]:
    """ECC refinement of ``warp`` (template px -> target px), coarse to fine.

    A feature homography from a small or smooth image can be several pixels off, beyond
    what single-level ECC recovers; a half-resolution pass first widens its reach. The
    result is kept only if it correlates better than the starting warp on the pixels both
    cover, so the large corrections a poor feature fit needs are kept and no warp wins by
    covering less; and only if no corner of the frame moved by more than MAX_CORRECTION
    of its diagonal.
    """
    h, w = template.shape
    candidates: list[np.ndarray] = []
    start = warp
    if coarse and min(template.shape) >= 64 and min(target.shape) >= 64:
        half = np.diag([0.5, 0.5, 1.0])
        double = np.diag([2.0, 2.0, 1.0])
        small_t = cv2.resize(template, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        small_c = cv2.resize(target, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        small_m = cv2.resize(
            mask, (small_t.shape[1], small_t.shape[0]), interpolation=cv2.INTER_NEAREST
        )
        # Not converging at half size is fine: refine from the feature homography alone.
        with contextlib.suppress(cv2.error):
            start = double @ _ecc(small_t, small_c, half @ warp @ double, small_m, 20) @ half
    for begin in (start, warp) if start is not warp else (warp,):
        try:
            candidates.append(_ecc(template, target, begin, mask, 25))
            break
        except cv2.error:
            continue
    best = warp
    support_w = _frame_inside(target.shape, warp, (w, h)) & (mask > 0)
    best_ncc = _alignment_ncc(template, target, warp, support_w)
    for cand in candidates:
        if _corner_shift(warp, cand, template.shape) > MAX_CORRECTION * _diagonal(warp, (w, h)):
            continue  # thrown off, not corrected
        support = support_w & _frame_inside(target.shape, cand, (w, h))
        before = _alignment_ncc(template, target, warp, support)
        after = _alignment_ncc(template, target, cand, support)
        if after > before:
            best, best_ncc = cand, after
    return best, best_ncc


def align(
    work: np.ndarray,
    claim: np.ndarray,
    target: np.ndarray,
    warp: np.ndarray,
    *,
    pixel_grid: bool = False,
) -> tuple[np.ndarray, float]:
    """The feature warp refined by ECC (again if the first pass moved it far), then by flow
    when ECC already correlates well (FLOW_MIN_ECC).

    The template's mask (pixels that disagree grossly are left out) is computed at the
    warp it starts from. From a poor feature homography, correct but misaligned texture is
    masked as "disagreeing" and ECC never sees it: it settles on a warp a few per cent off
    that the masked pixels cannot correct, so it is masked again at the refined warp.

    ``pixel_grid``: both images are at their own resolution (neither was resized for the
    comparison), so an unresized copy maps by a whole-pixel shift — see
    _prefer_pixel_grid. A claim shrunk to the original's scale first has no such map: a
    warp near 1 is then only as exact as the shrink.
    """
    template, mask = alignment_template(work, claim, warp)
    refined, ecc = refine_alignment(template, target, warp, mask)
    if ecc >= REALIGN_MIN_ECC and _corner_shift(warp, refined, work.shape) > REALIGN_SHIFT:
        template, mask = alignment_template(work, claim, refined)
        # Already close: the half-resolution pass that widens ECC's reach is not needed.
        refined, ecc = refine_alignment(template, target, refined, mask, coarse=False)
    if ecc >= FLOW_MIN_ECC:
        refined = refine_by_flow(work, claim, target, refined)
    if pixel_grid:
        refined = _prefer_pixel_grid(work, claim, target, refined)
    return refined, ecc


def affine_alternative(
    work: np.ndarray, claim: np.ndarray, target: np.ndarray, warp: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """An affine warp to compare the claim at besides ``warp`` (the aligned homography),
    with its correlation; ``None`` when it would be the same warp or correlates worse.

    Most disguises map the original by an affine map (resize, crop, turn, a screenshot's or
    collage's tile). A feature homography fitted on points bunched on the product (a smooth
    saucer on a plain backdrop) is ill-conditioned in its perspective terms, and ECC keeps
    the perspective it starts from: held-out collage tiles were laid over their original
    with a corner 15-19 work px off, and their texture disagreed along every edge. The
    affine map nearest ``warp`` over the frame, refined by ECC with the affine motion model,
    is offered when it moves a corner by at least AFFINE_MIN_SHIFT and correlates at least
    as well on the pixels both cover. The caller compares at both: the correlation alone
    does not tell a re-photograph's real perspective from a drift.
    """
    h, w = work.shape[:2]
    xs, ys = np.meshgrid(np.linspace(0, w - 1, 9), np.linspace(0, h - 1, 9))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    mapped = cv2.perspectiveTransform(grid.reshape(-1, 1, 2), warp).reshape(-1, 2)
    nearest, _ = cv2.estimateAffine2D(grid, mapped, method=cv2.LMEDS)
    if nearest is None:
        return None
    start = np.vstack([nearest, [0.0, 0.0, 1.0]])
    if _corner_shift(warp, start, work.shape) < AFFINE_MIN_SHIFT:
        return None
    template, mask = alignment_template(work, claim, warp)
    affine = start
    with contextlib.suppress(cv2.error):  # not converging: the nearest affine map as it is
        affine = _ecc(template, target, start, mask, 25, affine=True)
    support = (
        _frame_inside(target.shape, warp, (w, h))
        & _frame_inside(target.shape, affine, (w, h))
        & (mask > 0)
    )
    correlation = _alignment_ncc(template, target, affine, support)
    if correlation < _alignment_ncc(template, target, warp, support):
        return None
    return affine, correlation


def rotation_degrees(linear: np.ndarray) -> float:
    """The turn of a map's 2x2 linear part, in degrees (-180..180); a mirror image's turn
    is read after undoing the reflection."""
    if np.linalg.det(linear) < 0:
        linear = linear @ np.diag([-1.0, 1.0])
    return math.degrees(math.atan2(linear[1, 0] - linear[0, 1], linear[0, 0] + linear[1, 1]))


def pixel_grid_warp(warp: np.ndarray, size: tuple[int, int]) -> np.ndarray | None:
    """The whole-pixel shift (with flips) ``warp`` is a hair from, or ``None``.

    A claim that is the original's own pixels, unresized — re-saved, filtered, mirrored,
    cropped, bordered — maps onto it exactly so. The shift is read where ``warp`` takes
    the centre of the frame (``size``: width, height), not at its origin, where a scale a
    hair off has moved it.
    """
    w = warp / warp[2, 2]
    if max(abs(w[2, 0]), abs(w[2, 1])) > SNAP_PERSPECTIVE:
        return None
    if max(abs(w[0, 1]), abs(w[1, 0]), abs(abs(w[0, 0]) - 1), abs(abs(w[1, 1]) - 1)) > SNAP_SCALE:
        return None
    sx, sy = math.copysign(1.0, w[0, 0]), math.copysign(1.0, w[1, 1])
    cx, cy = (size[0] - 1) / 2, (size[1] - 1) / 2
    at = w @ np.array([cx, cy, 1.0])
    tx, ty = round(at[0] / at[2] - sx * cx), round(at[1] / at[2] - sy * cy)
    return np.array([[sx, 0.0, float(tx)], [0.0, sy, float(ty)], [0.0, 0.0, 1.0]])


def _prefer_pixel_grid(
    work: np.ndarray, claim: np.ndarray, target: np.ndarray, warp: np.ndarray
) -> np.ndarray:
    """``warp``, or the exact pixel-grid map beside it when that correlates as well.

    ECC and the flow settle where the correlation peaks; on a smooth object, or one whose
    flat areas JPEG broke into blocks, that peak lies a fraction of a per cent off scale
    and a few tenths of a pixel off the true map, and the fine texture then disagrees
    along every edge. Compared on the pixels both cover.
    """
    h, w = work.shape[:2]
    snapped = pixel_grid_warp(warp, (w, h))
    if snapped is None or np.allclose(snapped, warp / warp[2, 2]):
        return warp
    template, mask = alignment_template(work, claim, warp)
    support = (
        _frame_inside(target.shape, warp, (w, h))
        & _frame_inside(target.shape, snapped, (w, h))
        & (mask > 0)
    )
    refined_ncc = _alignment_ncc(template, target, warp, support)
    if _alignment_ncc(template, target, snapped, support) >= refined_ncc - SNAP_TIE:
        return snapped
    return warp


def refine_by_flow(
    work: np.ndarray, claim: np.ndarray, target: np.ndarray, warp: np.ndarray
) -> np.ndarray:
    """``warp`` corrected by a homography fitted to the dense optical flow left over.

    ECC maximises the correlation between the sharp original and the claim; when the
    claim was resampled (rotated, re-photographed, placed in a screenshot) and is softer,
    that maximum lies off the true warp — by a scale error of about 1 %, 0.5-1 px across
    the frame. Fine texture then disagrees along every edge and the copy scores like
    another photograph. Dense flow (DIS) matches local patches, and a homography fitted
    robustly to it removes that error. It is kept only when it leaves less flow than
    before.
    """
    template, mask = alignment_template(work, claim, warp)
    wh, ww = template.shape
    template_u8 = np.clip(template, 0, 255).astype(np.uint8)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    # Typed loosely: the stubs want an initial flow where OpenCV takes None for "none".
    dis: Any = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def flow_at(candidate: np.ndarray) -> np.ndarray:
        warped = cv2.warpPerspective(target, candidate, (ww, wh), flags=flags)
        return dis.calc(template_u8, np.clip(warped, 0, 255).astype(np.uint8), None)

    blurred = cv2.GaussianBlur(template, (0, 0), 1.0)
    gradient = cv2.magnitude(
        cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
    )
    textured = gradient / 8.0 > FLOW_MIN_GRADIENT
    usable = _frame_inside(claim.shape, warp, (ww, wh)) & (mask > 0) & textured
    ys, xs = np.nonzero(usable)
    if len(xs) < 50:
        return warp
    step = max(1, len(xs) // FLOW_POINTS)
    ys, xs = ys[::step], xs[::step]
    flow = flow_at(warp)[ys, xs]
    points = np.stack([xs, ys], axis=1).astype(np.float32)
    # Template pixel p sits at p + flow in the warped claim, i.e. at warp(p + flow).
    moved = cv2.perspectiveTransform((points + flow).reshape(-1, 1, 2), warp.astype(np.float64))
    fitted, _ = cv2.findHomography(points, moved.reshape(-1, 2), cv2.RANSAC, FLOW_RANSAC)
    if fitted is None or not np.all(np.isfinite(fitted)) or abs(fitted[2, 2]) < 1e-9:
        return warp
    fitted = fitted / fitted[2, 2]
    after = flow_at(fitted)[ys, xs]
    if np.median(np.hypot(after[:, 0], after[:, 1])) < np.median(np.hypot(flow[:, 0], flow[:, 1])):
        return fitted
    return warp


def _diagonal(warp: np.ndarray, size: tuple[int, int]) -> float:
    """The longer diagonal (target px) of the quadrilateral a warp lays a ``size`` frame on."""
    w, h = size
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32).reshape(-1, 1, 2)
    quad = cv2.perspectiveTransform(corners, warp.astype(np.float64)).reshape(-1, 2)
    return float(max(np.linalg.norm(quad[2] - quad[0]), np.linalg.norm(quad[3] - quad[1])))


def _corner_shift(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> float:
    """Largest distance (target px) between where two warps put the frame's corners."""
    h, w = shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32).reshape(-1, 1, 2)
    pa = cv2.perspectiveTransform(corners, a.astype(np.float64))
    pb = cv2.perspectiveTransform(corners, b.astype(np.float64))
    return float(np.linalg.norm((pa - pb).reshape(-1, 2), axis=1).max())
