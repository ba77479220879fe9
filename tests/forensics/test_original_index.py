"""Unit tests of the original index: dihedral pHashes and descriptor votes."""

from __future__ import annotations

import imagehash
import numpy as np
import pytest
from PIL import Image

from forensics import matching, original_index
from forensics.fingerprints import (
    OrbFeatures,
    fit_for_analysis,
)
from forensics.original_index import IndexedOriginal, OriginalIndex
from tests.forensics.engine_images import (
    as_claim,
    paint_damage,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_index_length(index: OriginalIndex) -> None:
    assert len(index) == 4


def test_dihedral_phashes_start_with_imagehash_phash(originals: dict[str, Image.Image]) -> None:
    image = fit_for_analysis(originals["chelsea"])

    hashes = original_index.dihedral_phashes(image)

    expected = int(str(imagehash.phash(image)), 16)
    assert hashes.shape == (8,)
    assert int(hashes[0]) == expected
    # A quarter turn of the image is found among the variants at distance 0.
    turned = original_index.dihedral_phashes(image.transpose(Image.Transpose.ROTATE_90))
    assert min(bin(int(h) ^ int(turned[0])).count("1") for h in hashes) <= 4


def test_each_claim_descriptor_votes_once_for_its_nearest_original(
    index: OriginalIndex, originals: dict[str, Image.Image]
) -> None:
    # Votes for every original with *some* close descriptor made all originals of similar
    # texture tie; one vote per claim descriptor (its nearest neighbour's original) makes
    # the true original stand out even for a crop.
    painted, _ = paint_damage(originals["astronaut"], (330, 300))
    claim, _ = as_claim(painted.crop((60, 40, 480, 470)))
    features = matching.orb_features(claim, n_features=matching.CLAIM_FEATURES)
    target = [o.key for o in index.originals].index("astronaut")

    votes = index.votes(features.descriptors)

    assert votes.sum() <= len(features.descriptors)
    others = np.delete(votes, target)
    assert votes[target] > 5 * max(1, int(others.max()))


def test_a_descriptor_found_in_many_originals_is_a_stop_word() -> None:
    # A patch of flat or repetitive texture recurs across a merchant's photos; it says
    # nothing about which one a claim came from. Truncating its bucket instead voted for
    # whichever originals were indexed first.
    rng = np.random.default_rng(3)
    shared = rng.integers(0, 256, 32, dtype=np.uint8)

    def original(key: str, descriptors: np.ndarray) -> IndexedOriginal:
        points = np.zeros((len(descriptors), 4), np.float32)
        return IndexedOriginal(
            key=key,
            phash=bytes(8),
            dhash=bytes(8),
            features=OrbFeatures(points, descriptors, (100, 100)),
            load_image=lambda: Image.new("RGB", (100, 100)),
        )

    distinctive = rng.integers(0, 256, (5, 32), dtype=np.uint8)
    common = original_index.VOTE_COMMON_MIN + 8
    index = OriginalIndex(
        [original(f"shelf-{i}", shared[None, :].copy()) for i in range(common)]
        + [original("listing", distinctive)]
    )

    votes = index.votes(np.vstack([shared[None, :], distinctive]))

    assert votes[:common].sum() == 0
    assert votes[common] == len(distinctive)
