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

import bisect
import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
from PIL import Image
from scipy.fftpack import dct

from forensics.fingerprints import OrbFeatures
from forensics.index_segments import (
    Segment,
    SegmentEntry,
    build_segment,
    merge_segments,
    segment_from_features,
)

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

#: A segment with more descriptors than this is searched through its coarse shortlist
#: (below); smaller ones (every merchant with up to a few thousand originals, and every
#: appended segment) vote exactly, as the whole index always did. Memory per descriptor:
#: exact 32 + 96 bytes (its 16 tables), coarse 40 bytes per sampled descriptor.
EXACT_VOTE_MAX_DESCRIPTORS = 1_500_000
#: Descriptors per original the coarse shortlist holds (spread over the stored ones).
COARSE_SAMPLE = 64
#: Originals the coarse shortlist passes on to the exact vote.
COARSE_CANDIDATES = 48
#: Coarse lists probed per claim descriptor, and the lists: about sqrt(sampled descriptors)
#: x COARSE_LISTS_FACTOR, so a claim scans a shrinking share of a growing index.
COARSE_PROBES = 8
COARSE_LISTS_FACTOR = 1.0


class _ExactTables:
    """The multi-index hash over one set of descriptors: 16 tables keyed by 16-bit slices."""

    def __init__(self, descriptors: np.ndarray) -> None:
        descriptors = np.ascontiguousarray(descriptors, dtype=np.uint8)
        self.words = descriptors.view(np.uint64).reshape(-1, 4)
        keys = descriptors.view("<u2").reshape(-1, _CHUNKS)
        sorted_keys, orders = [], []
        for c in range(_CHUNKS):
            order = np.argsort(keys[:, c], kind="stable").astype(np.int32)
            sorted_keys.append(keys[order, c])
            orders.append(order)
        self.sorted_keys = sorted_keys
        # The tables' entry orders end to end, so one gather serves every table.
        self.entries = np.concatenate(orders) if orders else np.zeros(0, np.int32)
        # A bucket larger than this is a stop word (see VOTE_COMMON_FACTOR).
        self.common = max(VOTE_COMMON_MIN, VOTE_COMMON_FACTOR * len(self.words) // (1 << 16))

    @property
    def nbytes(self) -> int:
        return int(self.entries.nbytes + sum(k.nbytes for k in self.sorted_keys))

    def nearest(self, descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each claim descriptor with a close neighbour (at most VOTE_MAX_BITS apart,
        sharing a 16-bit slice): (claim descriptor, nearest entry, distance)."""
        none = (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.uint16))
        if not len(descriptors) or not len(self.words):
            return none
        qkeys = descriptors.view("<u2").reshape(-1, _CHUNKS)
        qwords = descriptors.view(np.uint64).reshape(-1, 4)
        starts_by_table: list[np.ndarray] = []
        lengths_by_table: list[np.ndarray] = []
        for c, sorted_keys in enumerate(self.sorted_keys):
            lo = np.searchsorted(sorted_keys, qkeys[:, c], side="left")
            hi = np.searchsorted(sorted_keys, qkeys[:, c], side="right")
            starts_by_table.append(lo + c * len(sorted_keys))
            lengths_by_table.append(np.where(hi - lo > self.common, 0, hi - lo))
        lengths = np.concatenate(lengths_by_table)
        total = int(lengths.sum())
        if not total:
            return none
        # Every (claim descriptor, index entry) pair sharing a key, over all tables at once.
        q_all = np.repeat(np.tile(np.arange(len(qkeys), dtype=np.int32), _CHUNKS), lengths)
        first_slot = np.concatenate(starts_by_table) - (np.cumsum(lengths) - lengths)
        d_all = self.entries[np.repeat(first_slot, lengths) + np.arange(total)]
        words = self.words[d_all]
        words ^= qwords[q_all]
        bits = np.bitwise_count(words)  # (pairs, 4) uint8; summed column by column (faster)
        distance = bits[:, 0].astype(np.uint16) + bits[:, 1] + bits[:, 2] + bits[:, 3]
        close = distance <= VOTE_MAX_BITS
        q_close, d_close, dist_close = q_all[close], d_all[close], distance[close]
        if not len(q_close):
            return none
        # The nearest entry per claim descriptor (ties: the first pair found).
        order = np.lexsort((dist_close, q_close))
        first = np.ones(len(order), bool)
        first[1:] = q_close[order][1:] != q_close[order][:-1]
        chosen = order[first]
        return q_close[chosen], d_close[chosen], dist_close[chosen]


#: OpenMP threads a coarse-shortlist search uses (see _CoarseShortlist).
SHORTLIST_THREADS = 1


class _CoarseShortlist:
    """A FAISS binary IVF over COARSE_SAMPLE descriptors of each original of a large
    segment: which originals a claim's descriptors come near, found by scanning
    COARSE_PROBES of about sqrt(n) lists instead of every descriptor."""

    def __init__(self, serialised: np.ndarray) -> None:
        import faiss  # only large segments need it

        # Workers analyse one claim per process, as many processes as cores: OpenMP's
        # default of a thread per core in every process oversubscribes them.
        faiss.omp_set_num_threads(SHORTLIST_THREADS)
        # An IndexBinaryIVF (the stubs type it as its base class).
        ivf: Any = faiss.deserialize_index_binary(np.asarray(serialised, np.uint8))
        ivf.nprobe = COARSE_PROBES
        self.index = ivf

    @property
    def nbytes(self) -> int:
        # Codes (32 bytes) and ids (8 bytes) per sampled descriptor, and the centroids.
        return int(self.index.ntotal * 40 + self.index.nlist * 32)

    def candidates(self, descriptors: np.ndarray, limit: int) -> np.ndarray:
        """Rows of the segment most claim descriptors land near (at most ``limit``)."""
        distances, rows = self.index.search(np.ascontiguousarray(descriptors, np.uint8), 2)
        rows = rows[(distances <= VOTE_MAX_BITS) & (rows >= 0)]
        if not len(rows):
            return np.zeros(0, np.int64)
        found, hits = np.unique(rows, return_counts=True)
        return found[np.argsort(-hits, kind="stable")[:limit]]


def coarse_shortlist_bytes(segment: Segment, *, seed: int = 0) -> np.ndarray:
    """Build the coarse shortlist of a large segment (a FAISS binary IVF trained on its
    own descriptors), serialised for the segment file."""
    import faiss

    counts = np.diff(segment.offsets)
    # Up to COARSE_SAMPLE descriptors per original, evenly spread over its stored ones
    # (ORB lists them level by level: a spread keeps fine and coarse scales).
    take = np.minimum(counts, COARSE_SAMPLE)
    rows = np.repeat(np.arange(len(segment), dtype=np.int64), take)
    within = np.arange(int(take.sum())) - np.repeat(np.cumsum(take) - take, take)
    step = np.repeat(counts / np.maximum(take, 1), take)
    picked = np.repeat(segment.offsets[:-1], take) + (within * step).astype(np.int64)
    codes = np.ascontiguousarray(np.asarray(segment.descriptors)[picked])
    lists = int(max(16, COARSE_LISTS_FACTOR * np.sqrt(len(codes))))
    quantizer = faiss.IndexBinaryFlat(256)
    ivf = faiss.IndexBinaryIVF(quantizer, 256, lists)
    ivf.cp.seed = seed
    rng = np.random.default_rng(seed)
    training = codes[rng.choice(len(codes), min(len(codes), lists * 64), replace=False)]
    ivf.train(training)
    ivf.add_with_ids(codes, rows)
    return np.asarray(faiss.serialize_index_binary(ivf), np.uint8)


@dataclass
class _Part:
    """One segment of an index, where its rows start, and how it is searched."""

    segment: Segment
    start: int
    exact: _ExactTables | None
    coarse: _CoarseShortlist | None


class _Originals(Sequence[IndexedOriginal]):
    """The index's originals as a sequence; each is made when asked for (O(1))."""

    def __init__(self, index: OriginalIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def __getitem__(self, i: int) -> IndexedOriginal: ...
    @overload
    def __getitem__(self, i: slice) -> list[IndexedOriginal]: ...
    def __getitem__(self, i: int | slice) -> IndexedOriginal | list[IndexedOriginal]:
        if isinstance(i, slice):
            return [self._index.at(j) for j in range(*i.indices(len(self)))]
        return self._index.at(i)


class OriginalIndex:
    """An index of a merchant's originals: the stored segments and how they are searched.

    Holds the packed pHashes and, per segment, either the exact multi-index hash over its
    ORB descriptors (16 tables keyed by 16-bit slices) or, for a segment over
    EXACT_VOTE_MAX_DESCRIPTORS, a coarse shortlist (FAISS binary IVF) whose candidates
    then vote exactly. One copy of each descriptor, held by its segment (memory-mapped
    when read from a file). ``extend`` appends a segment without touching the others.

    Built from ``IndexedOriginal`` values (tests, ``screen_claim``, benchmarks) or from
    segments (``from_segments``: the workers), with ``load`` reading an original's pixels
    from its segment's ``source``.
    """

    def __init__(self, originals: Iterable[IndexedOriginal] = ()) -> None:
        given = list(originals)
        self._parts: list[_Part] = []
        self._given: list[IndexedOriginal | None] = []
        self._load: Callable[[str], Image.Image] | None = None
        self._phash = np.zeros(0, np.uint64)
        self._rows: dict[str, int] | None = None
        if given:
            entries = [
                SegmentEntry(
                    o.key,
                    {"phash": o.phash, "dhash": o.dhash},
                    o.full_size,
                    o.label,
                    o.kind,
                )
                for o in given
            ]
            self._append(segment_from_features(entries, [o.features for o in given]), given)

    @classmethod
    def from_segments(
        cls, segments: Iterable[Segment], *, load: Callable[[str], Image.Image]
    ) -> OriginalIndex:
        """An index over stored segments; ``load(source)`` decodes an original for analysis."""
        index = cls()
        index._load = load
        for segment in segments:
            index.extend(segment)
        return index

    def extend(self, segment: Segment) -> None:
        """Append a segment's originals (the others are not rebuilt)."""
        self._append(segment, None)

    def extended(self, segment: Segment) -> OriginalIndex:
        """A new index: this one's segments (shared, not rebuilt) and ``segment`` after
        them. This one is left as it was, for whoever is still reading it."""
        copy = OriginalIndex()
        copy._parts = list(self._parts)
        copy._given = list(self._given)
        copy._load = self._load
        copy._phash = self._phash
        copy._rows = dict(self._rows) if self._rows is not None else None
        copy._append(segment, None)
        return copy

    def _append(self, segment: Segment, given: list[IndexedOriginal] | None) -> None:
        if not len(segment):
            return
        start = len(self._given)
        large = segment.descriptor_count > EXACT_VOTE_MAX_DESCRIPTORS and len(segment.coarse)
        part = _Part(
            segment,
            start,
            None if large else _ExactTables(np.asarray(segment.descriptors)),
            _CoarseShortlist(segment.coarse) if large else None,
        )
        self._parts.append(part)
        self._given.extend(given if given is not None else [None] * len(segment))
        self._phash = np.concatenate([self._phash, np.asarray(segment.phash, np.uint64)])
        if self._rows is not None:
            for i, key in enumerate(segment.all_keys()):
                self._rows[key] = start + i

    @property
    def originals(self) -> Sequence[IndexedOriginal]:
        """The originals as a sequence (each made when asked for). Made on each access, not
        kept: a view holding the index would make a reference cycle, and an index evicted
        from a worker's cache would stay in memory until the cyclic collector ran (it
        seldom does between large numpy allocations: 100 merchants' indexes served in
        turn held 14 GB)."""
        return _Originals(self)

    def __len__(self) -> int:
        return len(self._given)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._key_rows()

    @property
    def nbytes(self) -> int:
        """Bytes the index holds (segments, search tables, shortlists): what a worker's
        cache of indexes is bounded by."""
        total = self._phash.nbytes
        for part in self._parts:
            total += part.segment.nbytes
            total += part.exact.nbytes if part.exact is not None else 0
            total += part.coarse.nbytes if part.coarse is not None else 0
        return int(total)

    def _key_rows(self) -> dict[str, int]:
        if self._rows is None:
            rows: dict[str, int] = {}
            for part in self._parts:
                for i, key in enumerate(part.segment.all_keys()):
                    rows[key] = part.start + i
            self._rows = rows
        return self._rows

    def _part(self, row: int) -> _Part:
        starts = [p.start for p in self._parts]
        return self._parts[bisect.bisect_right(starts, row) - 1]

    def at(self, row: int) -> IndexedOriginal:
        """The original in row ``row``."""
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        given = self._given[row]
        if given is not None:
            return given
        part = self._part(row)
        segment, i = part.segment, row - part.start
        load, source = self._load, segment.source(i)
        if load is None:
            raise LookupError("an index of segments needs a loader")
        return IndexedOriginal(
            key=segment.key(i),
            phash=int(segment.phash[i]).to_bytes(8, "big"),
            dhash=int(segment.dhash[i]).to_bytes(8, "big"),
            features=segment.features(i),
            load_image=functools.partial(load, source),
            full_size=segment.original_full_size(i),
            label=segment.label(i),
            kind=segment.kind(i),
        )

    def position(self, key: str) -> int:
        """The row of the original with this key (O(1)); KeyError if absent."""
        return self._key_rows()[key]

    def original(self, key: str) -> IndexedOriginal:
        """The indexed original with this key (O(1))."""
        return self.at(self.position(key))

    def phash_distances(self, claim_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best pHash distance per original over the claim's 8 variants, and which one."""
        if not len(self):
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        d = _popcount64(self._phash[None, :] ^ claim_hashes[:, None])  # (8, n)
        return d.min(axis=0), d.argmin(axis=0)

    def votes(self, descriptors: np.ndarray) -> np.ndarray:
        """Per original, how many claim descriptors have their nearest close neighbour in it.

        Exact segments are searched whole; a large segment's coarse shortlist names
        COARSE_CANDIDATES originals, and those vote exactly. The nearest neighbour of a
        claim descriptor is taken over all segments.
        """
        n = len(self)
        if not len(descriptors) or not n:
            return np.zeros(n, np.int32)
        descriptors = np.ascontiguousarray(descriptors.astype(np.uint8))
        found_q, found_row, found_dist = [], [], []
        for part in self._parts:
            if part.exact is not None:
                q, entry, dist = part.exact.nearest(descriptors)
                owners = np.searchsorted(part.segment.offsets, entry, side="right") - 1
                rows = part.start + owners
            else:
                assert part.coarse is not None
                q, rows, dist = self._coarse_nearest(part, descriptors)
            found_q.append(q)
            found_row.append(rows)
            found_dist.append(dist)
        q_all = np.concatenate(found_q)
        if not len(q_all):
            return np.zeros(n, np.int32)
        row_all = np.concatenate(found_row)
        dist_all = np.concatenate(found_dist)
        if len(self._parts) > 1:
            # One vote per claim descriptor, for its nearest over every segment (ties: the
            # earlier segment).
            order = np.lexsort((dist_all, q_all))
            first = np.ones(len(order), bool)
            first[1:] = q_all[order][1:] != q_all[order][:-1]
            row_all = row_all[order[first]]
        return np.bincount(row_all, minlength=n).astype(np.int32)

    def _coarse_nearest(
        self, part: _Part, descriptors: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert part.coarse is not None
        rows = np.sort(part.coarse.candidates(descriptors, COARSE_CANDIDATES))
        if not len(rows):
            return np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.uint16)
        descriptors_of_rows, lengths = part.segment.rows_descriptors(rows)
        tables = _ExactTables(descriptors_of_rows)
        q, entry, dist = tables.nearest(descriptors)
        owner = np.searchsorted(np.cumsum(lengths), entry, side="right")
        return q, part.start + rows[owner], dist


def stored_segment(entries: Sequence[SegmentEntry]) -> Segment:
    """The segment to store for these originals: their arrays, and the coarse shortlist
    when they are too many descriptors to vote exactly. What every stored index is built
    with (the workers' task, ``benchmarks/scale.py``)."""
    segment = build_segment(entries)
    if segment.descriptor_count > EXACT_VOTE_MAX_DESCRIPTORS:
        segment.coarse = coarse_shortlist_bytes(segment)
    return segment


def compacted_segment(segments: Sequence[Segment]) -> Segment:
    """One segment holding every row of ``segments`` (coarse shortlist rebuilt if large)."""
    segment = merge_segments(segments)
    if segment.descriptor_count > EXACT_VOTE_MAX_DESCRIPTORS:
        segment.coarse = coarse_shortlist_bytes(segment)
    return segment


class OriginalIndexCache:
    """Indexes kept by a worker process, least recently used first out, bounded by the
    bytes they hold (``OriginalIndex.nbytes``). One index larger than the bound is still
    served, and dropped when the next one comes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[OriginalIndex, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes the cached indexes hold."""
        return sum(index.nbytes for index, _ in self._entries.values())

    def get(self, key: Hashable) -> OriginalIndex | None:
        """The cached index, marked as just used."""
        found = self.get_with_tag(key)
        return found[0] if found is not None else None

    def get_with_tag(self, key: Hashable) -> tuple[OriginalIndex, Any] | None:
        """The cached index and the tag it was put with (what the caller checks it by)."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: Hashable, index: OriginalIndex, tag: Any = None) -> None:
        """Keep ``index``; the least recently used are dropped until the rest fit."""
        self._entries[key] = (index, tag)
        self._entries.move_to_end(key)
        self.trim()

    def trim(self) -> None:
        """Drop the least recently used indexes while over the bound (never the newest)."""
        while len(self._entries) > 1 and self.nbytes > self.max_bytes:
            self._entries.popitem(last=False)

    def discard(self, key: Hashable | None = None) -> None:
        """Forget one index, or all of them."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
