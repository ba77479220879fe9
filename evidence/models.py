"""Evidence library data: products, reference photos, packing videos with their
keyframes, and fingerprints of every image (merchants and their people: ``core``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import Merchant


class Product(models.Model):
    """A product the merchant sells, identified by its SKU."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="products")
    sku = models.CharField(_("SKU"), max_length=100)
    title = models.CharField(_("title"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku"], name="product_merchant_sku")
        ]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.sku} — {self.title}"


class StoredOriginal(models.Model):
    """An uploaded file kept byte-for-byte under a generated name (write-once)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), max_length=300)
    original_name = models.CharField(_("original file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("sniffed type"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at (UTC)"), auto_now_add=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        abstract = True


class ReferencePhoto(StoredOriginal):
    """A merchant's own photo of a product (listing or warehouse photo)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        FINGERPRINTED = "fingerprinted", _("Fingerprinted")
        FAILED = "failed", _("Failed")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="photos")
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    thumbnail = models.FileField(_("thumbnail"), max_length=300, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sha256"], name="photo_merchant_sha256")
        ]
        indexes = [models.Index(fields=["status", "uploaded_at"])]
        verbose_name = _("reference photo")
        verbose_name_plural = _("reference photos")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class PackingVideo(StoredOriginal):
    """The video filmed while an order was packed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    order_ref = models.CharField(_("order number"), max_length=100)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    container = models.CharField(_("container"), max_length=64)
    codec = models.CharField(_("codec"), max_length=32)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    duration_seconds = models.FloatField(_("duration (s)"))

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sha256"], name="video_merchant_sha256")
        ]
        indexes = [
            models.Index(fields=["merchant", "order_ref"]),
            models.Index(fields=["status", "uploaded_at"]),
        ]
        verbose_name = _("packing video")
        verbose_name_plural = _("packing videos")

    def __str__(self) -> str:
        return f"{self.order_ref}: {self.original_name}"


class VideoKeyframe(models.Model):
    """A still extracted from a packing video (a derived file)."""

    video = models.ForeignKey(PackingVideo, on_delete=models.CASCADE, related_name="keyframes")
    t_seconds = models.FloatField(_("time (s)"))
    image = models.FileField(_("image"), max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source_sha256 = models.CharField(_("video SHA-256"), max_length=64)

    class Meta:
        ordering = ["video", "t_seconds"]
        constraints = [
            models.UniqueConstraint(fields=["video", "t_seconds"], name="keyframe_video_time")
        ]
        verbose_name = _("video keyframe")
        verbose_name_plural = _("video keyframes")

    def __str__(self) -> str:
        return f"{self.video.order_ref} @ {self.t_seconds:.1f}s"


class Fingerprint(models.Model):
    """One algorithm's output for one image; kept per version so it can be recomputed."""

    class Algorithm(models.TextChoices):
        PHASH = "phash", "pHash"
        DHASH = "dhash", "dHash"
        ORB = "orb", "ORB features"

    reference_photo = models.ForeignKey(
        ReferencePhoto, on_delete=models.CASCADE, null=True, blank=True, related_name="fingerprints"
    )
    keyframe = models.ForeignKey(
        VideoKeyframe, on_delete=models.CASCADE, null=True, blank=True, related_name="fingerprints"
    )
    # The image's merchant, copied here so a merchant's fingerprints are one range of an
    # index (the evidence index's signature) rather than a join through photos and videos.
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    algorithm = models.CharField(max_length=16, choices=Algorithm.choices)
    version = models.PositiveSmallIntegerField()
    value = models.BinaryField()
    bits = models.PositiveSmallIntegerField(help_text=_("Hash length in bits; 0 for features."))
    library_versions = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(reference_photo__isnull=False) & Q(keyframe__isnull=True))
                | (Q(reference_photo__isnull=True) & Q(keyframe__isnull=False)),
                name="fingerprint_exactly_one_image",
            ),
            models.UniqueConstraint(
                fields=["reference_photo", "algorithm", "version"],
                condition=Q(reference_photo__isnull=False),
                name="fingerprint_photo_algorithm_version",
            ),
            models.UniqueConstraint(
                fields=["keyframe", "algorithm", "version"],
                condition=Q(keyframe__isnull=False),
                name="fingerprint_keyframe_algorithm_version",
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "algorithm", "version", "id"], name="fingerprint_merchant"
            )
        ]
        verbose_name = _("fingerprint")
        verbose_name_plural = _("fingerprints")

    def __str__(self) -> str:
        return f"{self.algorithm} v{self.version}"

    @property
    def hex(self) -> str:
        """Hex text of a hash value (empty for feature sets)."""
        return bytes(self.value).hex() if self.bits else ""
