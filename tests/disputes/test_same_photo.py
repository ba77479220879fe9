"""Unit tests of the same-photograph test's parts on arrays the tests make."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image
from skimage import data as skdata

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


def test_alignment_is_refined_again_when_its_start_hid_texture_that_agrees() -> None:
    # A smooth backdrop, a thin strip of print and a textured floor: the start is keystoned
    # (right at the top, ~7 px off at the bottom), so the floor disagrees there and is
    # masked out of the first ECC pass, which cannot then correct the bottom. Masked again
    # at the refined warp, the floor takes part and the warp becomes exact.
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    work = np.dstack([60 + 0.2 * xx, 80 + 0.1 * yy, 120 + 0 * xx]).astype(np.float32)
    work[100:120, 50:210] = np.asarray(
        Image.fromarray(skdata.coffee()).resize((160, 20)), np.float32
    )
    floor = cv2.GaussianBlur(rng.normal(0, 1, (256, 256)).astype(np.float32), (0, 0), 2.0)
    work[160:] += (floor / floor.std() * 50)[160:, :, None]
    work = np.clip(work, 0, 255)
    claim = np.full((296, 316, 3), (40, 160, 90), np.float32)  # a border around the copy
    claim[20:276, 30:286] = work
    target = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY)
    truth = np.array([[1.0, 0.0, 30.0], [0.0, 1.0, 20.0], [0.0, 0.0, 1.0]])
    start = truth @ np.linalg.inv(np.array([[1.0, 0, 0], [0, 1, 0], [0, 1e-4, 1.0]]))
    corners = np.float32([[0, 0], [255, 0], [255, 255], [0, 255]]).reshape(-1, 1, 2)

    def error(warp: np.ndarray) -> float:
        moved = cv2.perspectiveTransform(corners, warp) - cv2.perspectiveTransform(corners, truth)
        return float(np.abs(moved).max())

    template, mask = same_photo._alignment_template(work, claim, start)
    assert (mask[160:] == 0).mean() > 0.8  # the floor is hidden from the first pass
    one_pass, _ = same_photo._refine_alignment(template, target, start, mask)
    refined, _ = same_photo._align(work, claim, target, start)

    assert error(start) > 5 and error(one_pass) > 1.5
    assert error(refined) < 0.5


def test_frame_edges_are_left_out_only_where_the_claim_shows_more_beyond_them() -> None:
    m = same_photo.FRAME_MARGIN
    same_size = np.eye(3)
    # The copy sits in a border (claim = work shifted by 30, 20 inside a larger frame).
    bordered = np.array([[1.0, 0.0, 30.0], [0.0, 1.0, 20.0], [0.0, 0.0, 1.0]])
    # A crop: the claim starts 10 px into the frame on the left and at the top.
    cropped = np.array([[1.0, 0.0, -10.0], [0.0, 1.0, -10.0], [0.0, 0.0, 1.0]])

    assert same_photo._edge_margins(same_size, (200, 200, 3), (200, 200)) == (0, 0, 0, 0)
    assert same_photo._edge_margins(bordered, (260, 280, 3), (200, 200)) == (m, m, m, m)
    assert same_photo._edge_margins(cropped, (190, 190, 3), (200, 200)) == (0, 0, 0, 0)
    wider = np.array([[1.0, 0.0, 30.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert same_photo._edge_margins(wider, (200, 260, 3), (200, 200)) == (0, 0, m, m)


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
