"""Put the matched original into the claim's frame, for side-by-side review; and lay the
claim over the original to compare their perceptual hashes (``registered_hash_distance``).

The engine relates a claim to its original by a homography (claim analysis pixels →
original pixels). Warping the original through it gives a picture at the claim's scale
and orientation — rotation, mirror and crop undone — so a reviewer compares like with
like and the heatmap and changed-region box fit both.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from forensics.original_index import dihedral_phashes

#: Outside the original's frame (a crop, an added border): a neutral light grey.
OUTSIDE = (236, 236, 236)


def original_in_claim_frame(
    original: Image.Image, homography: Sequence[float], size: tuple[int, int]
) -> Image.Image:
    """``original`` warped into a ``size`` (width, height) claim frame.

    ``homography`` is the row-major 3×3 claim→original matrix in the pixels of
    ``original`` and of a claim of ``size``.
    """
    if len(homography) != 9:
        raise ValueError("a homography has nine entries")
    matrix = np.asarray(homography, dtype=np.float64).reshape(3, 3)
    source = np.asarray(original.convert("RGB"))
    warped = cv2.warpPerspective(
        source,
        matrix,
        (int(size[0]), int(size[1])),
        flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=OUTSIDE,
    )
    return Image.fromarray(warped)


#: The registered hash is taken with the original's frame at most this many pixels long
#: (pHash looks at 32×32 grey pixels; the issue 21 measurements used 198-pixel listings).
REGISTERED_HASH_SIDE = 256
#: Fewer covered pixels than this (in that frame) and there is nothing to hash.
REGISTERED_HASH_MIN_PIXELS = 64


def registered_hash_distance(
    claim: np.ndarray, original: np.ndarray, homography: np.ndarray
) -> int | None:
    """Bits (of 64) by which the claim, laid over the original, differs from it in pHash.

    ``claim`` and ``original`` are RGB arrays; ``homography`` maps claim pixels to
    original pixels (the feature fit). The claim is warped into the original's frame,
    the original's own pixels stand in where it does not reach (a rotation's corners), and
    both are hashed over the box the claim covers. A copy — regenerated, re-photographed,
    cropped twice — keeps its composition and lands a few bits away; another photograph
    of the same product does not (issue 21: buyer photos ≥ 10 bits with ≥ 25 inliers).
    ``None`` when the claim covers too little of the frame.
    """
    oh, ow = original.shape[:2]
    k = min(1.0, REGISTERED_HASH_SIDE / max(ow, oh))
    size = (max(8, round(ow * k)), max(8, round(oh * k)))
    frame = cv2.resize(original, size, interpolation=cv2.INTER_AREA) if k < 1.0 else original
    to_frame = np.diag([size[0] / ow, size[1] / oh, 1.0]) @ np.asarray(homography, np.float64)
    warped = cv2.warpPerspective(claim, to_frame, size)
    inside = cv2.warpPerspective(np.full(claim.shape[:2], 255, np.uint8), to_frame, size) > 127
    ys, xs = np.nonzero(inside)
    if len(xs) <= REGISTERED_HASH_MIN_PIXELS:
        return None
    laid_over = np.where(inside[..., None], warped, frame)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    claim_hash = dihedral_phashes(Image.fromarray(np.ascontiguousarray(laid_over[box])))[0]
    original_hash = dihedral_phashes(Image.fromarray(np.ascontiguousarray(frame[box])))[0]
    return int(np.bitwise_count(np.bitwise_xor(claim_hash, original_hash)))
