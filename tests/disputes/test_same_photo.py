"""Unit tests of the same-photograph test's parts on arrays the tests make."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from disputes import same_photo


def test_alignment_refinement_recovers_a_poor_start_and_ignores_the_damage(
    originals: dict[str, Image.Image],
) -> None:
    # The start is 5 px and 3 % off (a poor feature fit on a small image); a large painted
    # blob must not pull the warp (the damage is masked out of ECC).
    base = np.asarray(originals["astronaut"].convert("L").resize((200, 200)), np.float32)
    truth = np.array([[1.0, 0.0, 7.0], [0.0, 1.0, 4.0], [0.0, 0.0, 1.0]])
    target = base.copy()
    target[60:120, 80:150] = 20.0  # painted damage, in the claim only
    # The claim is the original shifted by (7, 4): claim(x + 7, y + 4) = original(x, y).
    claim = np.full((212, 212), 128.0, np.float32)
    claim[4:204, 7:207] = target
    work = np.dstack([base] * 3)
    start = np.array([[1.03, 0.0, 2.0], [0.0, 1.03, 0.0], [0.0, 0.0, 1.0]])

    template, mask = same_photo._alignment_template(work, np.dstack([claim] * 3), start)
    refined, ncc = same_photo._refine_alignment(template, claim, start, mask)

    corners = np.float32([[0, 0], [199, 0], [199, 199], [0, 199]]).reshape(-1, 1, 2)
    error = np.abs(
        cv2.perspectiveTransform(corners, refined) - cv2.perspectiveTransform(corners, truth)
    ).max()
    assert error < 0.5
    assert ncc > 0.95
    # Most of the blob is left out (where the original is itself dark it agrees anyway).
    assert (mask[70:110, 90:140] == 0).mean() > 0.7


def test_margins_that_do_not_reproduce_the_original_are_trimmed() -> None:
    valid = np.ones((40, 50), bool)
    bad = np.zeros((40, 50), bool)
    bad[:6, :] = True  # a border where a crop removed the top of the picture
    bad[:, 45:] = True  # and the right edge
    bad[20:26, 10:30] = True  # an edit inside the picture: never trimmed

    kept = same_photo._trim_margins(bad, valid)

    assert not kept[:6, :].any() and not kept[:, 45:].any()
    assert kept[6:, :45].all()


def test_a_faint_edit_still_gets_a_region() -> None:
    # Nothing reaches the normal thresholds; the fallback reports the strongest component.
    difference = np.zeros((100, 100), np.float32)
    difference[40:55, 30:50] = 14.0
    difference[80:82, 80:82] = 13.0
    inside = np.ones((100, 100), np.uint8)

    changed = same_photo._changed_pixels(difference, inside, noise=0.5)

    ys, xs = np.nonzero(changed)
    assert changed.any()
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (40, 54, 30, 49)


def test_tone_curves_absorb_a_gamma_filter_but_not_a_local_edit() -> None:
    rng = np.random.default_rng(5)
    rendered = rng.uniform(0, 255, (60, 60, 3)).astype(np.float32)
    claim = 255.0 * (rendered / 255.0) ** 0.7  # a gamma filter (not affine)
    claim[10:20, 10:20] = 0.0  # a painted edit
    valid = np.ones((60, 60), bool)

    fitted = same_photo._fit_tone_curves(rendered, claim.astype(np.float32), valid)

    residual = np.abs(fitted - claim)
    outside = np.ones((60, 60), bool)
    outside[10:20, 10:20] = False
    assert np.median(residual[outside]) < 3.0  # the filter is reproduced
    assert residual[10:20, 10:20].mean() > 50.0  # the edit still stands out


def test_the_region_is_the_strongest_edit_not_residue_far_away() -> None:
    # JPEG ringing along print far from the edit must not stretch the reported box.
    difference = np.zeros((200, 200), np.float32)
    difference[100:130, 90:120] = 60.0  # the edit
    difference[133:145, 92:118] = 30.0  # a stroke of the same edit, close by
    difference[5:20, 5:40] = 25.0  # residue far away
    inside = np.ones((200, 200), np.uint8)

    changed = same_photo._changed_pixels(difference, inside, noise=0.5)

    ys, xs = np.nonzero(changed)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (100, 144, 90, 119)
