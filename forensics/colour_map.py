"""The colour map between a claim and its original, and per-pixel channel maxima.

Pure: no Django. A colour filter (warm, sepia, desaturated) is a function of the
original's colours, so the engine fits an affine map original → claim and renders the
original through it before comparing; the registration fits the same map for its
template.
"""

from __future__ import annotations

import numpy as np

#: Ridge weight (per pixel) pulling the colour map toward identity.
COLOUR_RIDGE = 50.0
#: Each refit keeps the pixels within twice this percentile of the residuals (or 6 levels):
#: an edit or a border is left out however far off it is.
KEPT_PERCENTILE = 70
#: ``majority``: the first fit keeps the pixels within twice the median residual from the
#: identity, and every refit twice the median.
MAJORITY_PERCENTILE = 50


def fit_colour(source: np.ndarray, target: np.ndarray, *, majority: bool = False) -> np.ndarray:
    """Affine colour map source→target (N x 3 each): ridge toward identity, trimmed.

    The ridge keeps the map sane when the pixels span few colours (a carton on white),
    where plain least squares invents large cross-channel terms. With ``majority`` the fit
    follows the half of the pixels that agree best: where a third of the frame is
    something else (a dark bezel over the original's white backdrop: a cropped picture
    photographed on a screen) the first fit over all of them maps white to grey with
    crossed channels, and its 70th percentile lies among the bezel's pixels, so trimming
    keeps them all.
    """
    x = np.hstack([source, np.ones((len(source), 1), np.float32)]).astype(np.float64)
    y = target.astype(np.float64)
    prior = np.vstack([np.eye(3), np.zeros((1, 3))])
    keep = np.ones(len(source), bool)
    matrix: np.ndarray = prior
    share = MAJORITY_PERCENTILE if majority else KEPT_PERCENTILE
    if majority:
        residual = channel_max(np.abs(x @ prior - y))
        keep = residual <= max(float(np.percentile(residual, share)) * 2.0, 6.0)
    for _ in range(3):
        if keep.sum() < 16:
            break
        xk, yk = x[keep], y[keep]
        ridge = np.diag([COLOUR_RIDGE * len(xk)] * 3 + [0.0])
        matrix = np.linalg.solve(xk.T @ xk + ridge, xk.T @ yk + ridge @ prior)
        residual = channel_max(np.abs(x @ matrix - y))
        keep = residual <= max(float(np.percentile(residual, share)) * 2.0, 6.0)
    return matrix.astype(np.float32)


def channel_max(values: np.ndarray) -> np.ndarray:
    """Largest of the three colour channels (last axis), per pixel.

    The same as ``values.max(axis=-1)``, several times faster: numpy reduces a short last
    axis element by element.
    """
    return np.maximum(np.maximum(values[..., 0], values[..., 1]), values[..., 2])
