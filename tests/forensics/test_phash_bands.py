"""Multi-index hashing of pHashes: the band probes find every hash within the distance."""

from __future__ import annotations

import itertools
import random

import pytest

from forensics.phash_bands import (
    BAND_BITS,
    BAND_COUNT,
    band_probes,
    band_radii,
    hamming_distance,
    phash_bands,
)

REUSE_DISTANCE = 6  # disputes.reuse.REUSE_MAX_DISTANCE (the engine test imports no app)


def flipped(value: bytes, bits: list[int]) -> bytes:
    number = int.from_bytes(value, "big")
    for bit in bits:
        number ^= 1 << bit
    return number.to_bytes(8, "big")


def is_candidate(stored: bytes, query: bytes, max_distance: int) -> bool:
    bands = phash_bands(stored)
    return any(bands[p.band] in p.values for p in band_probes(query, max_distance))


def test_bands_split_the_hash_most_significant_first():
    value = bytes.fromhex("0123456789abcdef")
    assert phash_bands(value) == (0x0123, 0x4567, 0x89AB, 0xCDEF)
    assert hamming_distance(value, flipped(value, [0, 17, 63])) == 3
    with pytest.raises(ValueError, match="8 bytes"):
        phash_bands(b"\x00" * 7)


@pytest.mark.parametrize("max_distance", range(12))
def test_radii_are_the_fewest_that_cover_the_distance(max_distance):
    radii = band_radii(max_distance)
    assert len(radii) == BAND_COUNT
    assert sum(r + 1 for r in radii) == max_distance + 1
    assert max(radii) - min(radii) <= 1


def test_the_reuse_distance_probes_three_bands_with_one_bit_and_one_exactly():
    probes = band_probes(bytes(8), REUSE_DISTANCE)
    assert band_radii(REUSE_DISTANCE) == (1, 1, 1, 0)
    assert [len(p.values) for p in probes] == [1 + BAND_BITS] * 3 + [1]
    assert all(len(set(p.values)) == len(p.values) for p in probes)


@pytest.mark.parametrize("max_distance", [0, 1, 2, 3, 6, 7, 9])
def test_every_spread_of_flipped_bits_over_the_bands_is_found(max_distance):
    """Whether a hash is a candidate depends only on how many bits differ in each band:
    every such spread with at most ``max_distance`` bits in all is tried (random bits
    within each band), so this covers every hash within the distance."""
    rng = random.Random(max_distance)
    for per_band in itertools.product(range(min(max_distance, BAND_BITS) + 1), repeat=BAND_COUNT):
        if sum(per_band) > max_distance:
            continue
        for _ in range(3):
            query = rng.getrandbits(64).to_bytes(8, "big")
            bits = [
                band_bit + BAND_BITS * (BAND_COUNT - 1 - band)
                for band, count in enumerate(per_band)
                for band_bit in rng.sample(range(BAND_BITS), count)
            ]
            stored = flipped(query, bits)
            assert hamming_distance(stored, query) == sum(per_band)
            assert is_candidate(stored, query, max_distance), per_band


def test_random_hashes_agree_with_brute_force_and_candidates_are_few():
    rng = random.Random(22)
    queries = [rng.getrandbits(64).to_bytes(8, "big") for _ in range(40)]
    stored = [rng.getrandbits(64).to_bytes(8, "big") for _ in range(2000)]
    for query in queries:  # planted near copies at every distance up to 12
        for distance in range(13):
            stored.append(flipped(query, rng.sample(range(64), distance)))
    candidates = 0
    for query in queries:
        for value in stored:
            near = hamming_distance(value, query) <= REUSE_DISTANCE
            candidate = is_candidate(value, query, REUSE_DISTANCE)
            assert candidate or not near  # every near hash is a candidate
            candidates += candidate
    # 3 × 17 + 1 probed values of 65,536 per band: ≈ 0.08 % of unrelated hashes, plus
    # the 7 planted near copies (and some farther ones) per query.
    assert candidates / len(queries) < 7 + 13 + 0.01 * len(stored)
