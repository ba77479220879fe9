"""The stored form of an index of originals: columnar segments, one file each.

Pure: no Django. A ``Segment`` holds some originals of one merchant as flat numpy arrays:
one copy of every ORB descriptor and keypoint (not zipped per original), the packed
pHashes and dHashes, sizes, and each original's key, label and source (the stored file
its pixels are loaded from). An index is a base segment plus the small segments appended
as photos and keyframes arrive (``forensics.original_index.OriginalIndex.extend``).

The file format is a magic line, a JSON header naming each array's dtype, shape and
offset, and the arrays at 64-byte aligned offsets: ``segment_bytes`` writes it,
``read_segment`` reads it. A segment over
``forensics.original_index.EXACT_VOTE_MAX_DESCRIPTORS`` descriptors also carries its
coarse shortlist (a FAISS binary IVF over a sample of each original's descriptors),
built once with the segment; its descriptors and keypoints then stay in the file and
only the shortlisted originals' are read per claim (``FileRows``), so a worker's memory
does not grow with the merchant's originals nor with the claims it has served.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from forensics.fingerprints import OrbFeatures

MAGIC = b"REFUNDGUARD-INDEX-SEGMENT 1\n"
_ALIGN = 64
_KINDS: tuple[Literal["photo", "keyframe"], ...] = ("photo", "keyframe")


@dataclass(frozen=True)
class SegmentEntry:
    """One original as a segment is built from it: its stored fingerprint values."""

    key: str
    fingerprints: Mapping[str, bytes]
    full_size: tuple[int, int] | None = None
    label: str = ""
    kind: Literal["photo", "keyframe"] = "photo"
    #: Where the pixels are loaded from (a storage name); the caller's loader reads it.
    source: str = ""


def _strings(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 blob and int64 offsets (n + 1) of a list of strings."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    offsets[1:] = np.cumsum([len(e) for e in encoded])
    return np.frombuffer(b"".join(encoded), np.uint8).copy(), offsets


@dataclass
class Segment:
    """Some originals as flat arrays (see the module docstring). Row ``i``'s descriptors
    and points are ``descriptors[offsets[i]:offsets[i + 1]]``."""

    phash: np.ndarray  # uint64 (n,)
    dhash: np.ndarray  # uint64 (n,)
    kinds: np.ndarray  # uint8 (n,): index into ("photo", "keyframe")
    image_size: np.ndarray  # int32 (n, 2): the size the stored features were found at
    full_size: np.ndarray  # int32 (n, 2): the original's full size; (-1, -1) when unknown
    offsets: np.ndarray  # int64 (n + 1,)
    descriptors: np.ndarray | FileRows  # uint8 (D, 32)
    points: np.ndarray | FileRows  # float32 (D, 4)
    key_blob: np.ndarray
    key_offsets: np.ndarray
    label_blob: np.ndarray
    label_offsets: np.ndarray
    source_blob: np.ndarray
    source_offsets: np.ndarray
    #: The coarse shortlist, serialised (``faiss.serialize_index_binary``); empty if none.
    coarse: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    #: Descriptor rows the coarse shortlist holds (int64 ids are its original rows).
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.phash)

    @property
    def descriptor_count(self) -> int:
        """How many ORB descriptors the segment holds."""
        return len(self.descriptors)

    @property
    def nbytes(self) -> int:
        """The bytes its arrays take (what a worker's index cache is bounded by)."""
        return sum(int(getattr(self, name).nbytes) for name in _ARRAYS)

    def rows_descriptors(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The descriptors of the given rows, end to end, and how many each has."""
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        parts = [self.descriptors[int(a) : int(b)] for a, b in zip(starts, ends, strict=True)]
        joined = np.concatenate(parts) if parts else np.zeros((0, 32), np.uint8)
        return np.ascontiguousarray(joined, np.uint8), (ends - starts).astype(np.int64)

    def _string(self, blob: np.ndarray, offsets: np.ndarray, row: int) -> str:
        return bytes(blob[int(offsets[row]) : int(offsets[row + 1])]).decode("utf-8")

    def key(self, row: int) -> str:
        """The key of row ``row``."""
        return self._string(self.key_blob, self.key_offsets, row)

    def all_keys(self) -> list[str]:
        """Every row's key, in row order."""
        blob = bytes(self.key_blob)
        offsets = self.key_offsets.tolist()
        return [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(len(self))]

    def label(self, row: int) -> str:
        """How findings name row ``row``."""
        return self._string(self.label_blob, self.label_offsets, row)

    def source(self, row: int) -> str:
        """Where row ``row``'s pixels are loaded from."""
        return self._string(self.source_blob, self.source_offsets, row)

    def kind(self, row: int) -> Literal["photo", "keyframe"]:
        """A product photo or a packing-video still."""
        return _KINDS[int(self.kinds[row])]

    def features(self, row: int) -> OrbFeatures:
        """Row ``row``'s stored ORB features (views into the segment's arrays)."""
        a, b = int(self.offsets[row]), int(self.offsets[row + 1])
        w, h = self.image_size[row]
        return OrbFeatures(self.points[a:b], self.descriptors[a:b], (int(w), int(h)))

    def original_full_size(self, row: int) -> tuple[int, int] | None:
        """Row ``row``'s full size, if known."""
        w, h = (int(v) for v in self.full_size[row])
        return None if w < 0 else (w, h)

    def owners(self) -> np.ndarray:
        """The row each descriptor belongs to (int32, D)."""
        return np.repeat(np.arange(len(self), dtype=np.int32), np.diff(self.offsets))


_ARRAYS = (
    "phash",
    "dhash",
    "kinds",
    "image_size",
    "full_size",
    "offsets",
    "descriptors",
    "points",
    "key_blob",
    "key_offsets",
    "label_blob",
    "label_offsets",
    "source_blob",
    "source_offsets",
    "coarse",
)


def _hash64(value: bytes) -> np.uint64:
    return np.frombuffer(value[:8], dtype=">u8")[0].astype(np.uint64)


def build_segment(entries: Sequence[SegmentEntry]) -> Segment:
    """A segment of the given originals, from their stored fingerprint values (each
    original's zipped ORB data is read here, once, not on every load)."""
    features = [OrbFeatures.from_bytes(e.fingerprints["orb"]) for e in entries]
    return segment_from_features(entries, features)


def segment_from_features(
    entries: Sequence[SegmentEntry], features: Sequence[OrbFeatures]
) -> Segment:
    """A segment of the given originals whose ORB features are already decoded."""
    n = len(entries)
    counts = np.array([len(f.descriptors) for f in features], np.int64)
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum(counts)
    nonempty = [f for f in features if len(f.descriptors)]
    descriptors = (
        np.concatenate([f.descriptors for f in nonempty]).astype(np.uint8)
        if nonempty
        else np.zeros((0, 32), np.uint8)
    )
    points = (
        np.concatenate([f.points for f in nonempty]).astype(np.float32)
        if nonempty
        else np.zeros((0, 4), np.float32)
    )
    key_blob, key_offsets = _strings([e.key for e in entries])
    label_blob, label_offsets = _strings([e.label or e.key for e in entries])
    source_blob, source_offsets = _strings([e.source for e in entries])
    return Segment(
        phash=np.array([_hash64(e.fingerprints["phash"]) for e in entries], np.uint64).reshape(n),
        dhash=np.array([_hash64(e.fingerprints["dhash"]) for e in entries], np.uint64).reshape(n),
        kinds=np.array([_KINDS.index(e.kind) for e in entries], np.uint8).reshape(n),
        image_size=np.array([f.image_size for f in features], np.int32).reshape(n, 2),
        full_size=np.array(
            [e.full_size if e.full_size is not None else (-1, -1) for e in entries], np.int32
        ).reshape(n, 2),
        offsets=offsets,
        descriptors=np.ascontiguousarray(descriptors),
        points=np.ascontiguousarray(points),
        key_blob=key_blob,
        key_offsets=key_offsets,
        label_blob=label_blob,
        label_offsets=label_offsets,
        source_blob=source_blob,
        source_offsets=source_offsets,
    )


def merge_segments(segments: Sequence[Segment]) -> Segment:
    """One segment holding the rows of all of ``segments`` in order (no coarse shortlist:
    the caller builds one for the merged segment if it needs it)."""

    def cat(name: str) -> np.ndarray:
        return np.concatenate([np.asarray(getattr(s, name)) for s in segments])

    def offsets(name: str) -> np.ndarray:
        out, base = [np.zeros(1, np.int64)], 0
        for s in segments:
            o = np.asarray(getattr(s, name))
            out.append(o[1:] + base)
            base += int(o[-1])
        return np.concatenate(out)

    return Segment(
        phash=cat("phash"),
        dhash=cat("dhash"),
        kinds=cat("kinds"),
        image_size=cat("image_size"),
        full_size=cat("full_size"),
        offsets=offsets("offsets"),
        descriptors=cat("descriptors"),
        points=cat("points"),
        key_blob=cat("key_blob"),
        key_offsets=offsets("key_offsets"),
        label_blob=cat("label_blob"),
        label_offsets=offsets("label_offsets"),
        source_blob=cat("source_blob"),
        source_offsets=offsets("source_offsets"),
    )


def segment_bytes(segment: Segment) -> bytes:
    """The segment's file (see the module docstring)."""
    header: dict[str, Any] = {"arrays": {}, "meta": segment.meta}
    position = 0
    arrays = []
    for name in _ARRAYS:
        array = np.ascontiguousarray(getattr(segment, name))
        position = -(-position // _ALIGN) * _ALIGN
        header["arrays"][name] = {
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "offset": position,
        }
        arrays.append((position, array))
        position += array.nbytes
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    start = -(-(len(MAGIC) + 8 + len(head)) // _ALIGN) * _ALIGN
    out = bytearray(start + position)
    out[: len(MAGIC)] = MAGIC
    out[len(MAGIC) : len(MAGIC) + 8] = struct.pack("<Q", len(head))
    out[len(MAGIC) + 8 : len(MAGIC) + 8 + len(head)] = head
    for offset, array in arrays:
        out[start + offset : start + offset + array.nbytes] = array.tobytes()
    return bytes(out)


class FileRows:
    """A 2-D array left in its file: rows are read (``os.pread``) when sliced, so a
    worker holds only what a claim needs, and the pages it read stay the kernel's page
    cache (shared, reclaimable) rather than the process's memory."""

    def __init__(self, path: Path, offset: int, dtype: np.dtype[Any], shape: tuple[int, ...]):
        self._fd = os.open(path, os.O_RDONLY)
        self._offset = offset
        self.dtype = dtype
        self.shape = shape
        self._row_bytes = int(np.prod(shape[1:])) * dtype.itemsize
        #: Nothing of it is held in memory.
        self.nbytes = 0

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # closed at exit already
            os.close(self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, step = rows.indices(self.shape[0])
        if step != 1:
            raise IndexError("FileRows reads contiguous rows only")
        count = max(0, stop - start)
        data = os.pread(self._fd, count * self._row_bytes, self._offset + start * self._row_bytes)
        if len(data) != count * self._row_bytes:
            raise SegmentFormatError("segment file truncated while reading")
        return np.frombuffer(data, self.dtype).reshape((count, *self.shape[1:]))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[:]
        return whole.astype(dtype) if dtype is not None else whole


class SegmentFormatError(ValueError):
    """A file that is not a segment this code can read."""


def read_segment(path: Path) -> Segment:
    """Read a segment file. Everything is loaded except, for a segment with a coarse
    shortlist (a large one), its descriptors and keypoints: those stay in the file and
    are read for the originals the shortlist names (``FileRows``)."""
    with path.open("rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise SegmentFormatError(f"{path.name} is not an index segment")
        (length,) = struct.unpack("<Q", fh.read(8))
        try:
            header = json.loads(fh.read(length).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SegmentFormatError(f"{path.name} has a damaged header") from None
        start = -(-(len(MAGIC) + 8 + length) // _ALIGN) * _ALIGN
        size = path.stat().st_size
        large = bool(header["arrays"]["coarse"]["shape"][0])
        values: dict[str, Any] = {}
        for name in _ARRAYS:
            spec = header["arrays"][name]
            shape = tuple(spec["shape"])
            dtype = np.dtype(spec["dtype"])
            count = int(np.prod(shape)) if shape else 1
            offset = start + spec["offset"]
            if offset + count * dtype.itemsize > size:
                raise SegmentFormatError(f"{path.name} is truncated")
            if large and name in ("descriptors", "points") and count:
                values[name] = FileRows(path, offset, dtype, shape)
                continue
            fh.seek(offset)
            values[name] = np.fromfile(fh, dtype=dtype, count=count).reshape(shape)
    return Segment(**values, meta=header.get("meta", {}))
