"""The merchant's originals, indexed once for claim lookup.

Pure: no Django. An ``OriginalIndex`` holds each original's stored fingerprints (built by
``forensics.fingerprints`` at ingest) in the two forms a claim is looked up by:

1. pHash of the original, to compare with the claim's pHash under the 8 rotations/flips
   (numpy popcount over packed 64-bit hashes);
2. a multi-index hash over every original's ORB descriptors, through which a claim's
   descriptors vote for the originals they come from.

``disputes.evidence_index`` builds one per merchant and keeps it fresh; the matcher
(``forensics.matching``) reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image
from scipy.fftpack import dct

from forensics.fingerprints import OrbFeatures

#: Stage 2: descriptor pairs at most this many bits apart (of 256) count as votes.
VOTE_MAX_BITS = 56
#: A 16-bit key in more entries than this times the average bucket (and VOTE_COMMON_MIN) is a
#: stop word (flat or repeated texture): skipped, as truncating favours the first-indexed.
VOTE_COMMON_FACTOR = 4
VOTE_COMMON_MIN = 32


@dataclass(frozen=True)
class IndexedOriginal:
    """One merchant original as the index holds it: stored fingerprints + a lazy loader."""

    key: str
    phash: bytes
    dhash: bytes
    features: OrbFeatures
    load_image: Callable[[], Image.Image]
    #: The original's full (oriented) size, when ``load_image`` gives a reduced copy:
    #: "resized" is judged in full-size pixels, claim against original.
    full_size: tuple[int, int] | None = None
    #: How findings name it ("MUG-1 / front.jpg", a file path); the key when empty.
    label: str = ""
    #: A product photo, or a still of a packing video.
    kind: Literal["photo", "keyframe"] = "photo"


def indexed_original(
    key: str,
    fingerprints: Mapping[str, bytes],
    *,
    load_image: Callable[[], Image.Image],
    full_size: tuple[int, int] | None,
    label: str = "",
    kind: Literal["photo", "keyframe"] = "photo",
) -> IndexedOriginal:
    """An index entry from an original's stored fingerprints (``phash``, ``dhash``,
    ``orb`` values as ``forensics.fingerprints`` makes them): the one way every index
    (the workers', ``screen_claim``'s, the benchmark's) is filled."""
    return IndexedOriginal(
        key=key,
        phash=fingerprints["phash"],
        dhash=fingerprints["dhash"],
        features=OrbFeatures.from_bytes(fingerprints["orb"]),
        load_image=load_image,
        full_size=full_size,
        label=label or key,
        kind=kind,
    )


# --- pHash over the dihedral group ------------------------------------------------------

#: The 8 rotations/flips as (left-right flip first?, counter-clockwise quarter turns).
DIHEDRAL: tuple[tuple[bool, int], ...] = tuple(
    (flip, turns) for flip in (False, True) for turns in range(4)
)


def dihedral_variant(array: np.ndarray, flip: bool, turns: int) -> np.ndarray:
    """``array`` flipped left-right (if ``flip``), then turned ``turns`` quarters CCW."""
    out = np.fliplr(array) if flip else array
    return np.rot90(out, turns)


def _phash_bits(small: np.ndarray) -> np.ndarray:
    """imagehash.phash on a 32x32 grey array: 64 booleans."""
    coefficients = dct(dct(small, axis=0), axis=1)
    low = coefficients[:8, :8]
    return (low > np.median(low)).flatten()


def _pack64(bits: np.ndarray) -> np.uint64:
    return np.frombuffer(np.packbits(bits).tobytes(), dtype=">u8")[0].astype(np.uint64)


def dihedral_phashes(image: Image.Image) -> np.ndarray:
    """pHash (as uint64, same bits as ``forensics.fingerprints``) of the 8 rotations/flips.

    Index ``i`` corresponds to ``DIHEDRAL[i]``: optional left-right flip, then ``turns``
    counter-clockwise quarter turns. Index 0 equals imagehash's pHash of the image.
    """
    small = np.asarray(
        image.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64
    )
    return np.array(
        [_pack64(_phash_bits(dihedral_variant(small, f, t))) for f, t in DIHEDRAL], dtype=np.uint64
    )


def _popcount64(values: np.ndarray) -> np.ndarray:
    return np.bitwise_count(values).astype(np.int32)


# --- The index --------------------------------------------------------------------------

_CHUNKS = 16  # 256-bit ORB descriptors as 16 keys of 16 bits (multi-index hashing)


class OriginalIndex:
    """An in-memory index of a merchant's originals, built once and reused per claim.

    Holds the packed pHashes and a multi-index hash over every original's stored ORB
    descriptors (16 tables keyed by 16-bit slices), so a claim's descriptors vote for
    originals without a pairwise comparison against all of them.
    """

    def __init__(self, originals: Iterable[IndexedOriginal]) -> None:
        self.originals: list[IndexedOriginal] = list(originals)
        self._by_key = {o.key: o for o in self.originals}
        n = len(self.originals)
        self._phash = np.array(
            [np.frombuffer(o.phash, dtype=">u8")[0] for o in self.originals], dtype=np.uint64
        ).reshape(n)
        counts = [len(o.features.descriptors) for o in self.originals]
        self._owner = np.repeat(np.arange(n, dtype=np.int32), counts)
        if sum(counts):
            descriptors = np.concatenate(
                [o.features.descriptors for o in self.originals if len(o.features.descriptors)]
            ).astype(np.uint8)
        else:
            descriptors = np.zeros((0, 32), np.uint8)
        self._words = np.ascontiguousarray(descriptors).view(np.uint64).reshape(-1, 4)
        keys = np.ascontiguousarray(descriptors).view("<u2").reshape(-1, _CHUNKS)
        self._tables: list[tuple[np.ndarray, np.ndarray]] = []
        for c in range(_CHUNKS):
            order = np.argsort(keys[:, c], kind="stable").astype(np.int32)
            self._tables.append((keys[order, c], order))
        # A bucket larger than this is a stop word (see VOTE_COMMON_FACTOR).
        self._common = max(VOTE_COMMON_MIN, VOTE_COMMON_FACTOR * len(self._words) // (1 << 16))
        # The tables' entry orders end to end, so one gather serves every table.
        self._entries = (
            np.concatenate([order for _, order in self._tables])
            if self._tables
            else np.zeros(0, np.int32)
        )

    def __len__(self) -> int:
        return len(self.originals)

    def original(self, key: str) -> IndexedOriginal:
        """The indexed original with this key."""
        return self._by_key[key]

    def phash_distances(self, claim_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best pHash distance per original over the claim's 8 variants, and which one."""
        if not len(self.originals):
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        d = _popcount64(self._phash[None, :] ^ claim_hashes[:, None])  # (8, n)
        return d.min(axis=0), d.argmin(axis=0)

    def votes(self, descriptors: np.ndarray) -> np.ndarray:
        """Per original, how many claim descriptors have a close neighbour in it."""
        n = len(self.originals)
        if not len(descriptors) or not len(self._words):
            return np.zeros(n, np.int32)
        descriptors = np.ascontiguousarray(descriptors.astype(np.uint8))
        qkeys = descriptors.view("<u2").reshape(-1, _CHUNKS)
        qwords = descriptors.view(np.uint64).reshape(-1, 4)
        starts_by_table: list[np.ndarray] = []
        lengths_by_table: list[np.ndarray] = []
        for c, (sorted_keys, _) in enumerate(self._tables):
            lo = np.searchsorted(sorted_keys, qkeys[:, c], side="left")
            hi = np.searchsorted(sorted_keys, qkeys[:, c], side="right")
            starts_by_table.append(lo + c * len(sorted_keys))
            lengths_by_table.append(np.where(hi - lo > self._common, 0, hi - lo))
        lengths = np.concatenate(lengths_by_table)
        total = int(lengths.sum())
        if not total:
            return np.zeros(n, np.int32)
        # Every (claim descriptor, index entry) pair sharing a key, over all tables at once.
        q_all = np.repeat(np.tile(np.arange(len(qkeys), dtype=np.int32), _CHUNKS), lengths)
        first_slot = np.concatenate(starts_by_table) - (np.cumsum(lengths) - lengths)
        d_all = self._entries[np.repeat(first_slot, lengths) + np.arange(total)]
        words = self._words[d_all]
        words ^= qwords[q_all]
        bits = np.bitwise_count(words)  # (pairs, 4) uint8; summed column by column (faster)
        distance = bits[:, 0].astype(np.uint16) + bits[:, 1] + bits[:, 2] + bits[:, 3]
        close = distance <= VOTE_MAX_BITS
        q_close, d_close, dist_close = q_all[close], d_all[close], distance[close]
        if not len(q_close):
            return np.zeros(n, np.int32)
        # One vote per claim descriptor, for the original holding its nearest neighbour
        # (almost always the true one; similar-looking patches elsewhere get none).
        order = np.lexsort((dist_close, q_close))
        first = np.ones(len(order), bool)
        first[1:] = q_close[order][1:] != q_close[order][:-1]
        owners = self._owner[d_close[order][first]]
        return np.bincount(owners, minlength=n).astype(np.int32)
