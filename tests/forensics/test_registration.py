"""Unit tests of the claim's registration onto its original, on arrays the tests make."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from forensics import registration


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

    template, mask = registration.alignment_template(work, np.dstack([claim] * 3), start)
    refined, ncc = registration.refine_alignment(template, claim, start, mask)

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

    template, mask = registration.alignment_template(work, claim, start)
    assert (mask[160:] == 0).mean() > 0.8  # the floor is hidden from the first pass
    one_pass, _ = registration.refine_alignment(template, target, start, mask)
    refined, _ = registration.align(work, claim, target, start)

    assert error(start) > 5 and error(one_pass) > 1.5
    assert error(refined) < 0.5


def _resampled_copy() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A photo, a softened rotated and enlarged copy of it, and the true warp between."""
    work = np.asarray(Image.fromarray(skdata.astronaut()).resize((200, 200)), np.float32)
    turn, scale = np.deg2rad(8.0), 1.1
    truth = np.array(
        [
            [scale * np.cos(turn), -scale * np.sin(turn), 40.0],
            [scale * np.sin(turn), scale * np.cos(turn), 20.0],
            [0.0, 0.0, 1.0],
        ]
    )
    claim = cv2.warpPerspective(work, truth, (280, 280), flags=cv2.INTER_LINEAR)
    claim = cv2.GaussianBlur(claim, (0, 0), 1.0)  # softer, like a re-photographed screen
    return work, claim, truth


def _corner_error(warp: np.ndarray, truth: np.ndarray, side: int = 200) -> float:
    corners = np.float32([[0, 0], [side - 1, 0], [side - 1, side - 1], [0, side - 1]])
    corners = corners.reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(corners, warp) - cv2.perspectiveTransform(corners, truth)
    return float(np.abs(moved).max())


def test_flow_removes_the_small_scale_error_ecc_leaves_on_a_resampled_copy() -> None:
    # ECC on a softened copy can settle ~1 % off in scale (0.5-1 px across the frame);
    # the homography fitted to the dense flow puts the warp back.
    work, claim, truth = _resampled_copy()
    target = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY)
    centre = np.array([[1.0, 0, 100.0], [0, 1.0, 100.0], [0, 0, 1.0]])
    off = centre @ np.diag([1.01, 0.99, 1.0]) @ np.linalg.inv(centre)
    start = truth @ off

    refined = registration.refine_by_flow(work, claim, target, start)

    assert _corner_error(start, truth) > 0.9
    assert _corner_error(refined, truth) < 0.3


def test_flow_leaves_an_exact_warp_where_it_is() -> None:
    work, claim, truth = _resampled_copy()
    target = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY)

    refined = registration.refine_by_flow(work, claim, target, truth)

    assert _corner_error(refined, truth) < 0.3


def test_flow_runs_for_a_copy_but_not_for_another_photograph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another photograph never correlates like a copy after ECC; refining it by flow
    # was wasted time. A copy still gets the flow step.
    calls: list[int] = []
    real = registration.refine_by_flow

    def counted(*args: Any) -> np.ndarray:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(registration, "refine_by_flow", counted)
    work, claim, truth = _resampled_copy()
    other = np.asarray(Image.fromarray(skdata.coffee()).resize((280, 280)), np.float32)

    _, ecc_copy = registration.align(work, claim, cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY), truth)
    assert ecc_copy >= registration.FLOW_MIN_ECC and calls == [1]
    _, ecc_other = registration.align(work, other, cv2.cvtColor(other, cv2.COLOR_RGB2GRAY), truth)
    assert ecc_other < registration.FLOW_MIN_ECC and calls == [1]


def test_a_warp_a_hair_from_a_whole_pixel_shift_snaps_to_it() -> None:
    size = (256, 256)
    near = np.array([[1.004, 0.001, 6.8], [-0.002, 0.997, -3.3], [1e-6, 0.0, 1.0]])
    # 0.4 % tall and half a pixel up at the origin: the same rows at the centre.
    mirrored = np.array([[-1.002, 0.0, 255.4], [0.0, 1.004, -0.52], [0.0, 0.0, 1.0]])
    resized = np.array([[1.1, 0.0, 6.0], [0.0, 1.1, 3.0], [0.0, 0.0, 1.0]])

    assert np.array_equal(
        registration.pixel_grid_warp(near, size),
        [[1.0, 0.0, 7.0], [0.0, 1.0, -4.0], [0.0, 0.0, 1.0]],
    )
    assert np.array_equal(
        registration.pixel_grid_warp(mirrored, size),
        [[-1.0, 0.0, 255.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    )
    assert registration.pixel_grid_warp(resized, size) is None


def _smooth_photo(side: int = 160) -> np.ndarray:
    """A smooth object with faint grain: little for ECC to lock onto."""
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    shade = 60 + 120 * np.exp(-((x - 70) ** 2 + (y - 85) ** 2) / (2 * 38.0**2))
    grain = np.random.default_rng(3).normal(0, 2.0, (side, side)).astype(np.float32)
    grey = np.clip(shade + cv2.GaussianBlur(grain, (0, 0), 0.8), 0, 255)
    return np.dstack([grey, grey * 0.8, grey * 0.6]).astype(np.float32)


def test_an_unresized_copy_keeps_the_exact_pixel_map_over_a_warp_a_hair_off() -> None:
    work = _smooth_photo()
    claim = work.copy()  # the original's own pixels
    target = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY)
    off = np.array([[1.004, 0.0, -0.3], [0.0, 1.003, -0.4], [0.0, 0.0, 1.0]])

    chosen = registration._prefer_pixel_grid(work, claim, target, off)

    assert np.array_equal(chosen, np.eye(3))


def test_a_true_sub_pixel_shift_is_not_snapped() -> None:
    work = np.asarray(Image.fromarray(skdata.astronaut()).resize((200, 200)), np.float32)
    truth = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    claim = cv2.warpPerspective(work, truth, (200, 200), flags=cv2.INTER_LINEAR)
    target = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY)

    chosen = registration._prefer_pixel_grid(work, claim, target, truth)

    assert np.array_equal(chosen, truth)


def _smooth_object_on_a_dark_backdrop() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth bright object on a dark turntable (as COIL-100's are), and a claim holding
    it 36 px in on a dark surround; returns the original, the claim and the true warp."""
    ys, xs = np.mgrid[0:128, 0:128].astype(np.float32)
    base = (20 + 200 * np.exp(-(((xs - 64) / 30) ** 2 + ((ys - 64) / 22) ** 2))).astype(np.float32)
    claim = np.full((200, 200), 20, np.float32)
    claim[36:164, 36:164] = base
    truth = np.array([[1.0, 0.0, 36.0], [0.0, 1.0, 36.0], [0.0, 0.0, 1.0]])
    return base, claim, truth


def test_ecc_thrown_off_on_a_smooth_object_is_not_taken_for_a_correction() -> None:
    """On a smooth object over a dark backdrop ECC can settle on a wild perspective that
    correlates as well (dark against dark agrees anywhere): a result moving the frame by
    more than MAX_CORRECTION of its diagonal is dropped, while a large true correction is
    kept."""
    base, claim, truth = _smooth_object_on_a_dark_backdrop()
    corners = np.float32([[0, 0], [127, 0], [127, 127], [0, 127]]).reshape(-1, 1, 2)
    limit = registration.MAX_CORRECTION * float(np.hypot(127, 127))

    for offset, corrected in ((30.0, True), (45.0, False)):
        start = truth.copy()
        start[0, 2] += offset
        template, mask = registration.alignment_template(
            np.dstack([base] * 3), np.dstack([claim] * 3), start
        )
        refined, _ = registration.refine_alignment(template, claim, start, mask)

        moved = np.abs(
            cv2.perspectiveTransform(corners, refined) - cv2.perspectiveTransform(corners, start)
        ).max()
        to_truth = np.abs(
            cv2.perspectiveTransform(corners, refined) - cv2.perspectiveTransform(corners, truth)
        ).max()
        assert moved <= limit
        assert (to_truth < 1.0) == corrected


def test_the_template_follows_the_picture_when_a_bezel_covers_a_third_of_the_frame() -> None:
    """A cropped picture photographed on a screen: the bezel (dark) lies over the part of
    the original's white backdrop the crop removed. Fitted over every pixel, the colour map
    is dragged towards the bezel and the template misses the picture; followed by the
    pixels that agree best, it reproduces it."""
    work = np.full((200, 200, 3), 245.0, np.float32)
    work[40:170, 60:150] = np.asarray(
        Image.fromarray(skdata.coffee()).resize((90, 130)), np.float32
    )
    claim = np.clip(work * 0.9 + 12.0, 0, 255)  # the screen's own brightness and contrast
    claim[:, :50] = 30.0  # the bezel where the crop removed the listing's left side
    claim[:, 160:] = 30.0
    identity = np.eye(3)

    template, _ = registration.alignment_template(work, claim, identity)

    grey = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY)
    picture = (slice(None), slice(55, 155))
    assert np.abs(template[picture] - grey[picture]).mean() < 4.0


def _drifted(truth: np.ndarray, tilt: tuple[float, float]) -> np.ndarray:
    """``truth`` with a perspective a feature fit on bunched points adds (work frame)."""
    return truth @ np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [tilt[0], tilt[1], 1.0]])


@pytest.mark.parametrize("tilt", [(4e-4, 0.0), (0.0, -5e-4), (3e-4, 3e-4)])
def test_an_affine_copy_laid_over_with_a_drifted_perspective_is_offered_its_affine_map(
    tilt: tuple[float, float],
) -> None:
    # A resized, turned copy is an affine map of the original; a homography that drifted
    # in its perspective terms puts a corner pixels off. The affine map nearest it, refined,
    # is the true one and correlates better.
    work, claim, truth = _resampled_copy()
    target = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY)
    drifted = _drifted(truth, tilt)

    offered = registration.affine_alternative(work, claim, target, drifted)

    assert _corner_error(drifted, truth) > 5.0
    assert offered is not None
    affine, correlation = offered
    assert np.allclose(affine[2], [0.0, 0.0, 1.0])
    assert _corner_error(affine, truth) < 1.5  # ECC on a softened copy: ~1 % (see the flow)
    template, mask = registration.alignment_template(work, claim, drifted)
    support = mask > 0
    assert correlation > registration._alignment_ncc(template, target, drifted, support)


def test_no_affine_map_is_offered_for_a_warp_that_is_affine_already() -> None:
    work, claim, truth = _resampled_copy()
    target = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY)

    assert registration.affine_alternative(work, claim, target, truth) is None


def test_a_real_perspective_correlates_better_than_any_affine_map() -> None:
    # A photographed screen: the perspective is the claim's own, and an affine map of it
    # correlates worse, so none is offered.
    work, claim, truth = _resampled_copy()
    tilted = _drifted(truth, (6e-4, -4e-4))
    claim = cv2.warpPerspective(work, tilted, (280, 280), flags=cv2.INTER_LINEAR)
    target = cv2.cvtColor(claim, cv2.COLOR_RGB2GRAY)

    assert registration.affine_alternative(work, claim, target, tilted) is None
