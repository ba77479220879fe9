"""The per-merchant index of originals (reference photos + packing-video keyframes),
built from stored fingerprints and cached in the worker process until evidence changes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Count, Max
from PIL import Image

from evidence.models import Fingerprint
from forensics.fingerprints import ALGORITHM_VERSIONS, load_analysis_image
from forensics.original_index import OriginalIndex, indexed_original


@dataclass(frozen=True)
class OriginalRef:
    """What the UI and the findings need to know about an indexed original."""

    key: str
    kind: Literal["photo", "keyframe"]
    object_id: int
    label: str


@dataclass
class MerchantIndex:
    """An index and the descriptions of its originals."""

    index: OriginalIndex
    refs: dict[str, OriginalRef]
    signature: tuple[int, int | None]


_cache: dict[int, MerchantIndex] = {}
_lock = threading.Lock()


def _signature(merchant_id: int) -> tuple[int, int | None]:
    """Changes whenever a merchant's fingerprints change (count and newest id)."""
    stats = Fingerprint.objects.filter(
        algorithm="phash", version=ALGORITHM_VERSIONS["phash"]
    ).filter(reference_photo__merchant_id=merchant_id) | Fingerprint.objects.filter(
        algorithm="phash",
        version=ALGORITHM_VERSIONS["phash"],
        keyframe__video__merchant_id=merchant_id,
    )
    agg = stats.aggregate(n=Count("id"), newest=Max("id"))
    return (agg["n"], agg["newest"])


def _loader(name: str) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        with default_storage.open(name, "rb") as fh:
            return load_analysis_image(fh, max_pixels=settings.PHOTO_MAX_PIXELS)

    return load


def merchant_index(merchant_id: int) -> MerchantIndex:
    """The merchant's index, rebuilt only when their evidence has changed."""
    signature = _signature(merchant_id)
    with _lock:
        cached = _cache.get(merchant_id)
        if cached is not None and cached.signature == signature:
            return cached
    built = _build(merchant_id, signature)
    with _lock:
        _cache[merchant_id] = built
    return built


def _build(merchant_id: int, signature: tuple[int, int | None]) -> MerchantIndex:
    wanted = dict(ALGORITHM_VERSIONS)
    values: dict[str, dict[str, bytes]] = {}
    refs: dict[str, OriginalRef] = {}
    files: dict[str, str] = {}
    sizes: dict[str, tuple[int, int]] = {}
    photo_rows = (
        Fingerprint.objects.filter(
            reference_photo__merchant_id=merchant_id,
            reference_photo__status="fingerprinted",
        )
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
    )
    for row in photo_rows.iterator():
        if wanted.get(row.algorithm) != row.version:
            continue
        photo = row.reference_photo
        assert photo is not None
        key = f"photo:{photo.pk}"
        values.setdefault(key, {})[row.algorithm] = bytes(row.value)
        if key not in refs:
            refs[key] = OriginalRef(
                key, "photo", photo.pk, f"{photo.product.sku} / {photo.original_name}"
            )
            files[key] = photo.file.name or ""
            sizes[key] = (photo.width, photo.height)
    keyframe_rows = (
        Fingerprint.objects.filter(
            keyframe__video__merchant_id=merchant_id, keyframe__video__status="ready"
        )
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
    )
    for row in keyframe_rows.iterator():
        if wanted.get(row.algorithm) != row.version:
            continue
        keyframe = row.keyframe
        assert keyframe is not None
        key = f"keyframe:{keyframe.pk}"
        values.setdefault(key, {})[row.algorithm] = bytes(row.value)
        if key not in refs:
            refs[key] = OriginalRef(
                key,
                "keyframe",
                keyframe.pk,
                f"packing video {keyframe.video.order_ref} @ {keyframe.t_seconds:.1f}s",
            )
            files[key] = keyframe.image.name or ""
            sizes[key] = (keyframe.width, keyframe.height)
    originals = [
        indexed_original(
            key,
            v,
            load_image=_loader(files[key]),
            full_size=sizes[key],
            label=refs[key].label,
            kind=refs[key].kind,
        )
        for key, v in values.items()
        if {"phash", "dhash", "orb"} <= v.keys()
    ]
    return MerchantIndex(OriginalIndex(originals), refs, signature)


def forget(merchant_id: int | None = None) -> None:
    """Drop cached indexes (tests; or after bulk changes)."""
    with _lock:
        if merchant_id is None:
            _cache.clear()
        else:
            _cache.pop(merchant_id, None)
