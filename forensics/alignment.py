"""Put the matched original into the claim's frame, for side-by-side review.

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
