"""The matched original, warped into the claim's frame, lines up with the claim."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from forensics.alignment import OUTSIDE, original_in_claim_frame
from tests.disputes.fixtures import sample


def test_rotated_scaled_mirrored_claim_gets_an_original_in_its_own_frame():
    original = np.asarray(sample("astronaut").resize((400, 400)))
    # claim = original mirrored, turned 12°, shrunk to 70%, in a 300×320 frame
    flip = np.array([[-1, 0, 399], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    turn = np.vstack([cv2.getRotationMatrix2D((200, 200), 12, 0.7), [0, 0, 1]])
    shift = np.array([[1, 0, -50], [0, 1, -40], [0, 0, 1]], dtype=np.float64)
    original_to_claim = shift @ turn @ flip
    claim = cv2.warpPerspective(original, original_to_claim, (300, 320))
    claim_to_original = np.linalg.inv(original_to_claim)

    aligned = original_in_claim_frame(
        Image.fromarray(original), tuple(claim_to_original.flatten()), (300, 320)
    )

    assert aligned.size == (300, 320)
    got = np.asarray(aligned).astype(np.float32)
    inside = cv2.warpPerspective(
        np.full(original.shape[:2], 255, np.uint8), original_to_claim, (300, 320)
    )
    inside = cv2.erode(inside, np.ones((5, 5), np.uint8)) > 0
    error = np.abs(got - claim.astype(np.float32))[inside].mean()
    assert error < 6.0  # only resampling differs
    assert tuple(np.asarray(aligned)[0, 0]) == OUTSIDE  # a corner outside the original


def test_a_homography_must_have_nine_entries():
    with pytest.raises(ValueError):
        original_in_claim_frame(sample("coffee"), (1.0, 0.0, 0.0), (10, 10))
