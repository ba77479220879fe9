"""The per-merchant index of originals (reference photos + packing-video keyframes).

Its lifecycle:

- ``original_index_extend`` (the ``disputes.original_index_extend`` task, sent when a
  photo is fingerprinted or a video's keyframes are ready) writes the originals with
  current fingerprints that the merchant's index does not hold yet as one segment file
  (``forensics.index_segments``) in the project's storage, and a ``OriginalIndexSegment``
  row. The first run builds the whole index; later runs append. Past
  ``ORIGINAL_INDEX_MAX_SEGMENTS`` the appended segments are merged (all of them into the
  base once they hold a quarter of its originals: geometric, so rare).
- ``merchant_index`` (the workers): the merchant's live segments, each downloaded once to
  ``ORIGINAL_INDEX_LOCAL_DIR`` and memory-mapped from there, kept in an LRU bounded by
  ``ORIGINAL_INDEX_CACHE_BYTES``; a segment added since is appended to the cached index,
  not rebuilt. A worker that finds the fingerprints ahead of the segments (the task not
  run yet) extends the index itself first.
- Originals are decoded at analysis size once per worker for the last
  ``ORIGINAL_DECODED_CACHE`` used, not again for each claim that is compared with them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Max
from PIL import Image

from core.models import Merchant
from disputes.models import OriginalIndexSegment
from evidence.models import Fingerprint, PackingVideo, ReferencePhoto, VideoKeyframe
from forensics.fingerprints import ALGORITHM_VERSIONS, load_analysis_image
from forensics.index_segments import Segment, SegmentEntry, read_segment, segment_bytes
from forensics.original_index import (
    OriginalIndex,
    OriginalIndexCache,
    compacted_segment,
    stored_segment,
)

#: Where segment files live in the project's storage.
SEGMENTS_PREFIX = "indexes/"


@dataclass(frozen=True)
class OriginalRef:
    """What the UI and the findings need to know about an indexed original."""

    key: str
    kind: Literal["photo", "keyframe"]
    object_id: int
    label: str


@dataclass(frozen=True)
class MerchantIndex:
    """A merchant's index and the segments it was loaded from."""

    index: OriginalIndex
    #: The file of each segment loaded, in order (what a newer index is compared by:
    #: names are never reused, unlike ids in a test database).
    segments: tuple[str, ...]

    def ref(self, key: str) -> OriginalRef | None:
        """The indexed original with this key, described (O(1)); None if not indexed."""
        if key not in self.index:
            return None
        kind, _, pk = key.partition(":")
        label = self.index.original(key).label
        return OriginalRef(key, "keyframe" if kind == "keyframe" else "photo", int(pk), label)


_lock = threading.Lock()
_indexes: OriginalIndexCache | None = None
_decoded: OrderedDict[str, Image.Image] = OrderedDict()


def _cache() -> OriginalIndexCache:
    global _indexes
    if _indexes is None:
        _indexes = OriginalIndexCache(settings.ORIGINAL_INDEX_CACHE_BYTES)
    return _indexes


def _signature(merchant_id: int) -> tuple[int, int | None]:
    """Changes whenever a merchant's fingerprints change (count and newest id).

    One range of the ``fingerprint_merchant`` index (merchant, algorithm, version, id):
    the merchant's photos and keyframes alike, no join and no scan of other merchants'.
    """
    stats = Fingerprint.objects.filter(
        merchant_id=merchant_id, algorithm="phash", version=ALGORITHM_VERSIONS["phash"]
    )
    agg = stats.aggregate(n=Count("id"), newest=Max("id"))
    return (agg["n"], agg["newest"])


def _load_original(name: str) -> Image.Image:
    """An original decoded at analysis size; the last ORIGINAL_DECODED_CACHE are kept
    (originals are write-once: a name always means the same pixels)."""
    with _lock:
        found = _decoded.get(name)
        if found is not None:
            _decoded.move_to_end(name)
            return found.copy()
    with default_storage.open(name, "rb") as fh:
        image = load_analysis_image(fh, max_pixels=settings.PHOTO_MAX_PIXELS)
    with _lock:
        _decoded[name] = image
        while len(_decoded) > max(0, settings.ORIGINAL_DECODED_CACHE):
            _decoded.popitem(last=False)
    return image.copy()


def _local_segment(name: str) -> Segment:
    """A stored segment, memory-mapped from this machine's copy (downloaded once)."""
    local = Path(settings.ORIGINAL_INDEX_LOCAL_DIR) / name
    if not local.exists():
        local.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=local.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, default_storage.open(name, "rb") as fh:
                for chunk in iter(lambda: fh.read(8 << 20), b""):
                    out.write(chunk)
            Path(partial).replace(local)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    return read_segment(local)


def _live_rows(merchant_id: int) -> list[OriginalIndexSegment]:
    return list(OriginalIndexSegment.objects.filter(merchant_id=merchant_id).order_by("seq"))


def _is_current(rows: list[OriginalIndexSegment], signature: tuple[int, int | None]) -> bool:
    return bool(rows) and (rows[-1].fingerprints_count, rows[-1].fingerprints_newest) == signature


def merchant_index(merchant_id: int) -> MerchantIndex:
    """The merchant's index: cached, extended with segments added since, or loaded."""
    rows = _live_rows(merchant_id)
    if not _is_current(rows, _signature(merchant_id)):
        original_index_extend(merchant_id)
        rows = _live_rows(merchant_id)
    stored = [row for row in rows if row.file]
    wanted = tuple(row.file for row in stored)
    with _lock:
        cached = _cache().get_with_tag(merchant_id)
    if cached is not None and cached[1].segments == wanted:
        found: MerchantIndex = cached[1]
        return found
    if cached is not None and wanted[: len(cached[1].segments)] == cached[1].segments:
        index = cached[0]
        for row in stored[len(cached[1].segments) :]:
            index = index.extended(_local_segment(row.file))
    else:
        index = OriginalIndex.from_segments(
            (_local_segment(row.file) for row in stored), load=_load_original
        )
    built = MerchantIndex(index, wanted)
    with _lock:
        _cache().put(merchant_id, index, built)
    return built


def _missing(keys: list[int], prefix: str, exclude: set[str]) -> Iterator[list[int]]:
    """The ids whose ``prefix:id`` key is not in ``exclude``, in batches for ``__in``."""
    missing = [pk for pk in keys if f"{prefix}:{pk}" not in exclude]
    for i in range(0, len(missing), 500):
        yield missing[i : i + 500]


_Kind = Literal["photo", "keyframe"]
_Description = tuple[str, str, tuple[int, int], _Kind]


def _collect(
    rows: Iterable[Fingerprint],
    kind: _Kind,
    owner_of: Callable[[Fingerprint], Any],
    describe: Callable[[Any], tuple[str, str, tuple[int, int]]],
    values: dict[str, dict[str, bytes]],
    described: dict[str, _Description],
) -> None:
    """Gather fingerprint rows of the current algorithm versions into ``values`` by their
    original's key (``kind:pk``), describing each original once (label, source, size)."""
    for row in rows:
        if ALGORITHM_VERSIONS.get(row.algorithm) != row.version:
            continue
        owner = owner_of(row)
        assert owner is not None
        key = f"{kind}:{owner.pk}"
        values.setdefault(key, {})[row.algorithm] = bytes(row.value)
        if key not in described:
            described[key] = (*describe(owner), kind)


def _entries(merchant_id: int, exclude: set[str]) -> Iterator[SegmentEntry]:
    """The merchant's originals with every current fingerprint, except ``exclude``: only
    theirs are read (ids first, then the fingerprints of the missing ones), so appending
    one photo to a large index does not read every fingerprint again."""
    values: dict[str, dict[str, bytes]] = {}
    described: dict[str, _Description] = {}
    photo_ids = ReferencePhoto.objects.filter(
        merchant_id=merchant_id, status=ReferencePhoto.Status.FINGERPRINTED
    ).values_list("pk", flat=True)
    for batch in _missing(list(photo_ids), "photo", exclude):
        photo_rows = (
            Fingerprint.objects.filter(reference_photo_id__in=batch)
            .select_related("reference_photo__product")
            .only(
                "algorithm",
                "version",
                "value",
                "reference_photo__id",
                "reference_photo__file",
                "reference_photo__original_name",
                "reference_photo__width",
                "reference_photo__height",
                "reference_photo__product__sku",
            )
            .order_by("reference_photo_id", "id")
        )
        _collect(
            photo_rows,
            "photo",
            lambda row: row.reference_photo,
            lambda photo: (
                f"{photo.product.sku} / {photo.original_name}",
                photo.file.name or "",
                (photo.width, photo.height),
            ),
            values,
            described,
        )
    keyframe_ids = VideoKeyframe.objects.filter(
        video__merchant_id=merchant_id, video__status=PackingVideo.Status.READY
    ).values_list("pk", flat=True)
    for batch in _missing(list(keyframe_ids), "keyframe", exclude):
        keyframe_rows = (
            Fingerprint.objects.filter(keyframe_id__in=batch)
            .select_related("keyframe__video")
            .only(
                "algorithm",
                "version",
                "value",
                "keyframe__id",
                "keyframe__image",
                "keyframe__t_seconds",
                "keyframe__width",
                "keyframe__height",
                "keyframe__video__order_ref",
            )
            .order_by("keyframe_id", "id")
        )
        _collect(
            keyframe_rows,
            "keyframe",
            lambda row: row.keyframe,
            lambda keyframe: (
                f"packing video {keyframe.video.order_ref} @ {keyframe.t_seconds:.1f}s",
                keyframe.image.name or "",
                (keyframe.width, keyframe.height),
            ),
            values,
            described,
        )
    for key, v in values.items():
        if {"phash", "dhash", "orb"} <= v.keys():
            label, source, size, kind = described[key]
            yield SegmentEntry(key, v, full_size=size, label=label, kind=kind, source=source)


def _save_segment(merchant_id: int, seq: int, segment: Segment) -> tuple[str, int]:
    data = segment_bytes(segment)
    name = f"{SEGMENTS_PREFIX}{merchant_id}/{seq:08d}-{uuid.uuid4().hex}.seg"
    return default_storage.save(name, ContentFile(data)), len(data)


def original_index_extend(merchant_id: int) -> int:
    """Add the merchant's originals that their index lacks as one new segment (the whole
    index the first time), merging segments past ORIGINAL_INDEX_MAX_SEGMENTS. Idempotent;
    one run per merchant at a time. Returns how many originals were added."""
    saved: list[str] = []
    replaced: list[str] = []
    try:
        with transaction.atomic():
            # One extension per merchant at a time: the others wait, then find it done.
            if Merchant.objects.select_for_update().filter(pk=merchant_id).first() is None:
                return 0
            signature = _signature(merchant_id)
            rows = _live_rows(merchant_id)
            if _is_current(rows, signature):
                return 0
            segments = {row.seq: _local_segment(row.file) for row in rows if row.file}
            indexed = {key for segment in segments.values() for key in segment.all_keys()}
            entries = list(_entries(merchant_id, indexed))
            seq = (rows[-1].seq + 1) if rows else 1
            added = OriginalIndexSegment(
                merchant_id=merchant_id,
                seq=seq,
                fingerprints_count=signature[0],
                fingerprints_newest=signature[1],
            )
            if entries:
                segment = stored_segment(entries)
                added.file, added.size_bytes = _save_segment(merchant_id, seq, segment)
                saved.append(added.file)
                added.originals, added.descriptors = len(segment), segment.descriptor_count
                segments[seq] = segment
            added.save()
            rows.append(added)
            if len(rows) > settings.ORIGINAL_INDEX_MAX_SEGMENTS:
                replaced = _compact(merchant_id, rows, segments, saved)
            transaction.on_commit(lambda: _delete_files(replaced))
            return len(entries)
    except BaseException:
        _delete_files(saved)  # nothing half-stored: the rows that named them are gone
        raise


def _compact(
    merchant_id: int,
    rows: list[OriginalIndexSegment],
    segments: dict[int, Segment],
    saved: list[str],
) -> list[str]:
    """Merge the appended segments (all segments, once they hold a quarter of the base's
    originals) into one row; returns the files it replaced."""
    base = rows[0]
    appended = rows[1:]
    whole = 4 * sum(row.originals for row in appended) >= base.originals
    merged_rows = rows if whole else appended
    merged = compacted_segment([segments[row.seq] for row in merged_rows if row.file])
    last = rows[-1]
    seq = last.seq + 1
    row = OriginalIndexSegment(
        merchant_id=merchant_id,
        seq=seq,
        fingerprints_count=last.fingerprints_count,
        fingerprints_newest=last.fingerprints_newest,
        originals=len(merged),
        descriptors=merged.descriptor_count,
    )
    if len(merged):
        row.file, row.size_bytes = _save_segment(merchant_id, seq, merged)
        saved.append(row.file)
    OriginalIndexSegment.objects.filter(pk__in=[r.pk for r in merged_rows]).delete()
    row.save()
    # The merged rows keep their order before the rows left in place: a merge of the
    # appended segments only comes after the base.
    return [r.file for r in merged_rows if r.file]


def _delete_files(names: list[str]) -> None:
    for name in names:
        # A storage outage leaves the file orphaned, never the index broken.
        with contextlib.suppress(OSError):
            default_storage.delete(name)


def forget(merchant_id: int | None = None) -> None:
    """Drop this process's cached indexes and decoded originals (tests; bulk changes)."""
    with _lock:
        _cache().discard(merchant_id)
        _decoded.clear()
