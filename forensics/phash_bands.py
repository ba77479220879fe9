"""Pure (no Django): multi-index hashing of 64-bit pHashes, so a database finds every
stored hash within a Hamming distance through exact lookups on indexed integer columns.

A hash is cut into ``BAND_COUNT`` bands of ``BAND_BITS`` bits, each stored in its own
indexed column. Generalised pigeonhole: give band *i* a search radius ``r_i`` with
``sum(r_i + 1) > max_distance``. Two hashes at most ``max_distance`` bits apart then
differ in at most ``r_i`` bits of at least one band *i* (were every band ``r_i + 1`` or
more bits apart, the hashes would be at least ``sum(r_i + 1)`` apart). So the exact set of
hashes within ``max_distance`` is contained in the rows whose band *i* is one of the few
values within ``r_i`` bits of the query's band *i*, for some *i* — equality lookups on
the band indexes, OR-ed — and the exact distance is checked on those candidates only.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

BAND_COUNT = 4
BAND_BITS = 16
HASH_BITS = BAND_COUNT * BAND_BITS
_BAND_MASK = (1 << BAND_BITS) - 1


def phash_int(value: bytes) -> int:
    """The 8-byte pHash as an unsigned 64-bit integer (big-endian, as stored)."""
    if len(value) != HASH_BITS // 8:
        raise ValueError(f"a pHash is {HASH_BITS // 8} bytes, not {len(value)}")
    return int.from_bytes(value, "big")


def phash_bands(value: bytes) -> tuple[int, ...]:
    """The hash's ``BAND_COUNT`` bands, most significant first (each 0 … 2**BAND_BITS - 1)."""
    number = phash_int(value)
    return tuple(
        (number >> (BAND_BITS * (BAND_COUNT - 1 - i))) & _BAND_MASK for i in range(BAND_COUNT)
    )


def hamming_distance(a: bytes, b: bytes) -> int:
    """Bits that differ between two pHashes."""
    return (phash_int(a) ^ phash_int(b)).bit_count()


def band_radii(max_distance: int) -> tuple[int, ...]:
    """Per-band search radii with ``sum(r + 1) == max_distance + 1``: the fewest probes
    that still find every hash within ``max_distance`` (see the module docstring).

    ``max_distance`` 6 over 4 bands gives (1, 1, 1, 0): three bands probed at their
    value and its 16 one-bit neighbours, one band at its value only.
    """
    if not 0 <= max_distance < HASH_BITS:
        raise ValueError(f"max_distance must be within 0 … {HASH_BITS - 1}")
    base, extra = divmod(max_distance + 1, BAND_COUNT)
    # Radius -1 would mean "never probe this band": allowed, as sum(r + 1) still holds.
    return tuple(base if i < extra else base - 1 for i in range(BAND_COUNT))


def _within(value: int, radius: int) -> list[int]:
    """Every ``BAND_BITS``-bit value at most ``radius`` bits from ``value``."""
    found = [value]
    for flipped in range(1, radius + 1):
        for bits in combinations(range(BAND_BITS), flipped):
            mask = 0
            for bit in bits:
                mask |= 1 << bit
            found.append(value ^ mask)
    return found


@dataclass(frozen=True)
class BandProbe:
    """The values to look up in one band's index (an empty tuple: skip the band)."""

    band: int
    values: tuple[int, ...]


def band_probes(value: bytes, max_distance: int) -> list[BandProbe]:
    """The index lookups that find every stored hash within ``max_distance`` of
    ``value``: a stored hash is a candidate when, for some probe, its band ``probe.band``
    is one of ``probe.values``. Candidates still need their exact distance checked."""
    return [
        BandProbe(i, tuple(_within(band, radius)) if radius >= 0 else ())
        for i, (band, radius) in enumerate(
            zip(phash_bands(value), band_radii(max_distance), strict=True)
        )
    ]
