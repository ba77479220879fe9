"""Every write to the evidence library. Keyword-only arguments, one transaction each."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import IO, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import acts_for
from core.audit import audit_record
from core.models import Merchant
from core.tasks import enqueue_on_commit
from evidence import storage
from evidence.models import (
    Fingerprint,
    PackingVideo,
    Product,
    ReferencePhoto,
    VideoKeyframe,
)
from evidence.signals import evidence_ready
from evidence.uploads import FileDigest, clean_filename, digest, validate_photo, validate_video
from forensics.errors import MediaRejected
from forensics.fingerprints import (
    ALGORITHM_VERSIONS,
    fingerprint_image,
    fit_for_analysis,
    library_versions,
    load_analysis_image,
    thumbnail_jpeg,
)
from forensics.fingerprints import (
    Fingerprint as FingerprintValue,
)
from forensics.keyframes import extract_keyframes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOutcome:
    """The result of one upload: ``stored`` (new) or ``duplicate`` (same bytes known)."""

    status: str
    obj: ReferencePhoto | PackingVideo

    @property
    def is_new(self) -> bool:
        """Whether the upload created a new original."""
        return self.status == "stored"


def _require_member(actor: Any | None, merchant: Merchant | int) -> None:
    """Refuse (403) anyone but the merchant's own people: support reviewers read the
    evidence, they never add to it."""
    if not acts_for(actor, merchant):
        raise PermissionDenied(_("Only the merchant attaches its evidence."))


def product_create(*, merchant: Merchant, actor: Any | None, sku: str, title: str) -> Product:
    """Create a product; a SKU is unique within a merchant, whatever its letter case
    ("mug-1" and "MUG-1" are one product to the people who type them)."""
    _require_member(actor, merchant)
    sku = sku.strip()
    if not sku:
        raise ValidationError({"sku": _("A SKU is required.")})
    existing = Product.objects.filter(merchant=merchant, sku__iexact=sku).first()
    if existing is not None:
        raise ValidationError(
            {"sku": _("A product with SKU “%(sku)s” already exists.") % {"sku": existing.sku}}
        )
    return Product.objects.create(merchant=merchant, sku=sku, title=title.strip() or sku)


def product_get_or_create(
    *, merchant: Merchant, actor: Any | None, sku: str, title: str = ""
) -> Product:
    """The merchant's product with this SKU (any letter case), created if missing (bulk
    import)."""
    _require_member(actor, merchant)
    existing = Product.objects.filter(merchant=merchant, sku__iexact=sku).first()
    if existing is not None:
        return existing
    product, _created = Product.objects.get_or_create(
        merchant=merchant, sku=sku, defaults={"title": title or sku}
    )
    return product


def _store_original(
    model: type[ReferencePhoto] | type[PackingVideo],
    *,
    merchant: Merchant,
    upload: File[Any],
    file_digest: FileDigest,
    kind: str,
    extension: str,
    task: Any,
    fields: dict[str, Any],
) -> IngestOutcome:
    """Store validated bytes and their row in one step: both or neither.

    Bytes the merchant already has are a duplicate, not a second copy; a concurrent
    upload of the same bytes that wins the race makes this one a duplicate too.
    """
    existing = model.objects.filter(merchant=merchant, sha256=file_digest.sha256).first()
    if existing is not None:
        return IngestOutcome("duplicate", existing)
    name = storage.original_name(merchant_id=merchant.pk, kind=kind, extension=extension)
    stored_name = ""
    try:
        with transaction.atomic():
            stored_name = storage.save_original(upload, name=name)
            obj = model.objects.create(
                merchant=merchant,
                file=stored_name,
                sha256=file_digest.sha256,
                size_bytes=file_digest.size,
                **fields,
            )
            audit_record(
                merchant=merchant,
                actor=fields.get("uploaded_by"),
                action="evidence.uploaded",
                data={
                    "kind": kind,
                    "id": obj.pk,
                    "name": fields.get("original_name", ""),
                    "sha256": file_digest.sha256,
                    "size": file_digest.size,
                },
            )
            enqueue_on_commit(task, obj.pk)
    except IntegrityError:
        storage.delete_quietly(stored_name)
        return IngestOutcome(
            "duplicate", model.objects.get(merchant=merchant, sha256=file_digest.sha256)
        )
    except BaseException:
        storage.delete_quietly(stored_name)
        raise
    return IngestOutcome("stored", obj)


def photo_ingest(
    *, product: Product, upload: File[Any], filename: str, uploader: Any | None
) -> IngestOutcome:
    """Validate and store a reference photo; recognise bytes this merchant already has.

    Raises ``ValidationError`` for a bad file; then neither a row nor a file is left;
    ``PermissionDenied`` for an uploader who does not act for the product's merchant.
    """
    from evidence.tasks import photo_fingerprint_task

    _require_member(uploader, product.merchant_id)
    display_name = clean_filename(filename)
    file_digest = digest(upload)
    info = validate_photo(upload, size=file_digest.size)
    return _store_original(
        ReferencePhoto,
        merchant=product.merchant,
        upload=upload,
        file_digest=file_digest,
        kind="photos",
        extension=info.extension,
        task=photo_fingerprint_task,
        fields={
            "product": product,
            "original_name": display_name,
            "content_type": info.mime,
            "width": info.width,
            "height": info.height,
            "uploaded_by": uploader,
        },
    )


def video_ingest(
    *, merchant: Merchant, order_ref: str, upload: File[Any], filename: str, uploader: Any | None
) -> IngestOutcome:
    """Validate and store a packing video for an order; recognise known bytes."""
    from evidence.tasks import video_process_task

    _require_member(uploader, merchant)
    order_ref = order_ref.strip()
    if not order_ref:
        raise ValidationError({"order_ref": _("An order number is required.")})
    display_name = clean_filename(filename)
    file_digest = digest(upload)
    info = validate_video(upload, size=file_digest.size)
    return _store_original(
        PackingVideo,
        merchant=merchant,
        upload=upload,
        file_digest=file_digest,
        kind="videos",
        extension=info.extension,
        task=video_process_task,
        fields={
            "order_ref": order_ref,
            "original_name": display_name,
            "content_type": info.mime,
            "container": info.container,
            "codec": info.codec,
            "width": info.width,
            "height": info.height,
            "duration_seconds": info.duration_seconds,
            "uploaded_by": uploader,
        },
    )


def _fingerprint_rows(values: list[FingerprintValue], **target: Any) -> list[Fingerprint]:
    versions = library_versions()
    return [
        Fingerprint(
            algorithm=v.algorithm,
            version=v.version,
            value=v.value,
            bits=v.bits,
            library_versions=versions,
            **target,
        )
        for v in values
    ]


def _has_current_fingerprints(photo: ReferencePhoto) -> bool:
    have = set(photo.fingerprints.values_list("algorithm", "version"))
    return set(ALGORITHM_VERSIONS.items()) <= have


def photo_fingerprint(*, photo_id: int) -> ReferencePhoto:
    """Fingerprint a reference photo and make its thumbnail. Idempotent.

    A file that cannot be decoded ends ``failed`` with the reason; storage or database
    errors propagate so the task can retry.
    """
    with transaction.atomic():
        photo = ReferencePhoto.objects.select_for_update().get(pk=photo_id)
        if photo.status == ReferencePhoto.Status.FINGERPRINTED and _has_current_fingerprints(photo):
            return photo
        photo.status = ReferencePhoto.Status.PROCESSING
        photo.save(update_fields=["status"])
    try:
        with default_storage.open(photo.file.name or "", "rb") as fh:
            image = load_analysis_image(cast(IO[bytes], fh), max_pixels=settings.PHOTO_MAX_PIXELS)
        values = fingerprint_image(image)
        thumb = thumbnail_jpeg(image)
    except MediaRejected as exc:
        return photo_mark_failed(photo_id=photo_id, reason=str(exc))
    thumb_name = storage.save_derived(
        thumb, name=storage.derived_name(source_sha256=photo.sha256, label="thumb.jpg")
    )
    with transaction.atomic():
        photo = ReferencePhoto.objects.select_for_update().get(pk=photo_id)
        photo.fingerprints.filter(
            algorithm__in=[v.algorithm for v in values],
        ).delete()
        Fingerprint.objects.bulk_create(
            _fingerprint_rows(values, merchant_id=photo.merchant_id, reference_photo=photo)
        )
        photo.thumbnail = thumb_name
        photo.status = ReferencePhoto.Status.FINGERPRINTED
        photo.failure_reason = ""
        photo.processed_at = timezone.now()
        photo.save(update_fields=["thumbnail", "status", "failure_reason", "processed_at"])
        # Inside the transaction: a receiver records the new evidence with it (and sends
        # its own tasks on commit), so fingerprinted evidence is never left unannounced.
        evidence_ready.send(
            sender=ReferencePhoto, merchant_id=photo.merchant_id, reference_photo_id=photo.pk
        )
    return photo


def photo_mark_failed(*, photo_id: int, reason: str) -> ReferencePhoto:
    """Record that a photo could not be fingerprinted, and why."""
    with transaction.atomic():
        photo = ReferencePhoto.objects.select_for_update().get(pk=photo_id)
        photo.status = ReferencePhoto.Status.FAILED
        photo.failure_reason = reason
        photo.processed_at = timezone.now()
        photo.save(update_fields=["status", "failure_reason", "processed_at"])
    return photo


def video_process(*, video_id: int) -> PackingVideo:
    """Extract and fingerprint a packing video's keyframes. Idempotent.

    A video that cannot be decoded ends ``failed`` with the reason, never ``processing``.
    """
    with transaction.atomic():
        video = PackingVideo.objects.select_for_update().get(pk=video_id)
        if video.status == PackingVideo.Status.READY:
            return video
        video.status = PackingVideo.Status.PROCESSING
        video.save(update_fields=["status"])
    stills: list[tuple[float, bytes, tuple[int, int], list[FingerprintValue]]] = []
    try:
        with default_storage.open(video.file.name or "", "rb") as fh:
            for keyframe in extract_keyframes(
                fh,
                per_minute=settings.KEYFRAMES_PER_MINUTE,
                min_spacing_seconds=settings.KEYFRAME_MIN_SPACING_SECONDS,
            ):
                stills.append(
                    (
                        keyframe.t_seconds,
                        thumbnail_jpeg(keyframe.image, side=max(keyframe.image.size), quality=90),
                        keyframe.image.size,
                        fingerprint_image(fit_for_analysis(keyframe.image)),
                    )
                )
    except MediaRejected as exc:
        return video_mark_failed(video_id=video_id, reason=str(exc))
    names = [
        storage.save_derived(
            jpeg,
            name=storage.derived_name(
                source_sha256=video.sha256, label=f"keyframe-{round(t * 1000):09d}ms.jpg"
            ),
        )
        for t, jpeg, _size, _fps in stills
    ]
    with transaction.atomic():
        video = PackingVideo.objects.select_for_update().get(pk=video_id)
        video.keyframes.all().delete()  # leftovers of an interrupted earlier attempt
        for name, (t, _jpeg, (width, height), values) in zip(names, stills, strict=True):
            keyframe_row = VideoKeyframe.objects.create(
                video=video,
                t_seconds=t,
                image=name,
                width=width,
                height=height,
                source_sha256=video.sha256,
            )
            Fingerprint.objects.bulk_create(
                _fingerprint_rows(values, merchant_id=video.merchant_id, keyframe=keyframe_row)
            )
        video.status = PackingVideo.Status.READY
        video.failure_reason = ""
        video.processed_at = timezone.now()
        video.save(update_fields=["status", "failure_reason", "processed_at"])
        evidence_ready.send(
            sender=PackingVideo, merchant_id=video.merchant_id, packing_video_id=video.pk
        )
    return video


def video_mark_failed(*, video_id: int, reason: str) -> PackingVideo:
    """Record that a video could not be processed, and why."""
    with transaction.atomic():
        video = PackingVideo.objects.select_for_update().get(pk=video_id)
        video.status = PackingVideo.Status.FAILED
        video.failure_reason = reason
        video.processed_at = timezone.now()
        video.save(update_fields=["status", "failure_reason", "processed_at"])
    return video
