"""Disputes (refund claims), the buyer's claim images, what the analysis found, and the
decisions people make (the audit trail: ``core.models.AuditEvent``)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import Merchant
from evidence.models import PackingVideo, Product, ReferencePhoto, StoredOriginal
from forensics.findings import FINDING_KINDS, FindingCode
from forensics.phash_bands import BAND_COUNT, phash_bands


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")


#: Sort key of a risk level: the queue puts high risk first, unanalysed last.
RISK_RANK = {RiskLevel.HIGH: 3, RiskLevel.MEDIUM: 2, RiskLevel.LOW: 1, "": 0}


class Dispute(models.Model):
    """A buyer's claim on a marketplace, answered by the merchant."""

    class Platform(models.TextChoices):
        TAOBAO = "taobao", _("Taobao")
        TMALL = "tmall", _("Tmall")
        JD = "jd", _("JD.com")
        PINDUODUO = "pinduoduo", _("Pinduoduo")
        DOUYIN = "douyin", _("Douyin")
        AMAZON = "amazon", _("Amazon")
        OTHER = "other", _("Other")

    class ClaimType(models.TextChoices):
        REFUND_ONLY = "refund_only", _("Refund only")
        RETURN_AND_REFUND = "return_and_refund", _("Return and refund")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANALYSING = "analysing", _("Analysing")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        REFUND_APPROVED = "refund_approved", _("Decided: refund approved")
        CLAIM_REJECTED = "claim_rejected", _("Decided: claim rejected")
        MORE_EVIDENCE = "more_evidence", _("Decided: more evidence requested")

    DECIDED = (Status.REFUND_APPROVED, Status.CLAIM_REJECTED, Status.MORE_EVIDENCE)
    #: Statuses a reviewer still has to act on ("more evidence" waits for an answer).
    AWAITING_DECISION = (Status.OPEN, Status.ANALYSING, Status.NEEDS_REVIEW, Status.MORE_EVIDENCE)
    FINAL = (Status.REFUND_APPROVED, Status.CLAIM_REJECTED)

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="disputes")
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    external_id = models.CharField(_("platform dispute id"), max_length=100)
    order_ref = models.CharField(_("order number"), max_length=100, db_index=True)
    buyer_ref = models.CharField(_("buyer reference"), max_length=100, blank=True)
    #: HMAC of the platform and the normalised buyer id (``disputes.buyers.buyer_key``):
    #: what buyer history matches on, across merchants.
    buyer_key = models.CharField(_("buyer key"), max_length=64, blank=True, editable=False)
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="disputes"
    )
    claim_type = models.CharField(_("claim type"), max_length=24, choices=ClaimType.choices)
    reason = models.TextField(_("buyer's reason"), blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    opened_at = models.DateTimeField(_("opened at"))
    respond_by = models.DateTimeField(_("respond by"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    risk_score = models.FloatField(_("risk score"), null=True, blank=True)
    risk_level = models.CharField(
        _("risk level"), max_length=8, choices=RiskLevel.choices, blank=True
    )
    # Denormalised by the analysis so the review queue reads one row per dispute.
    risk_rank = models.PositiveSmallIntegerField(_("risk rank"), default=0)
    top_claim_image = models.ForeignKey(
        "ClaimImage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    top_finding = models.ForeignKey(
        "Finding", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merchant_statement = models.TextField(_("merchant's statement"), blank=True)
    statement_updated_at = models.DateTimeField(null=True, blank=True)
    #: Bumped on every change a reviewer must see before deciding (optimistic locking).
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["respond_by", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "platform", "external_id"], name="dispute_platform_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "respond_by"]),
            # The review queue: awaiting a decision, riskiest first, then soonest deadline;
            # partial, so a page is an index scan that stops after 25 rows.
            models.Index(
                fields=["-risk_rank", "respond_by", "id"],
                condition=models.Q(
                    status__in=["open", "analysing", "needs_review", "more_evidence"]
                ),
                name="dispute_queue",
            ),
            models.Index(fields=["merchant", "buyer_ref"], name="dispute_buyer"),
            models.Index(fields=["buyer_key", "opened_at"], name="dispute_buyer_key"),
        ]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.external_id}"

    @property
    def is_decided(self) -> bool:
        """Whether a person has decided the dispute."""
        return self.status in self.DECIDED

    @property
    def is_final(self) -> bool:
        """Whether the dispute is closed (refund approved or claim rejected): its
        respond-by deadline no longer counts down."""
        return self.status in self.FINAL


class ClaimImage(StoredOriginal):
    """A photo the buyer sent with the claim (kept like evidence: byte for byte)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for analysis")
        PROCESSING = "processing", _("Analysing")
        ANALYSED = "analysed", _("Analysed")
        FAILED = "failed", _("Analysis failed")

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="claim_images")
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    analysis_status = models.CharField(
        _("analysis status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    phash = models.BinaryField(_("pHash"), max_length=8, null=True, blank=True)
    # The pHash cut into 16-bit bands, one indexed column each, so the reuse check finds
    # near copies across the platform by exact index lookups (forensics.phash_bands).
    # Written only through set_phash(); the check constraint keeps them beside phash.
    phash_band0 = models.PositiveIntegerField(null=True, blank=True, editable=False)
    phash_band1 = models.PositiveIntegerField(null=True, blank=True, editable=False)
    phash_band2 = models.PositiveIntegerField(null=True, blank=True, editable=False)
    phash_band3 = models.PositiveIntegerField(null=True, blank=True, editable=False)
    risk_score = models.FloatField(_("risk score"), null=True, blank=True)
    risk_level = models.CharField(
        _("risk level"), max_length=8, choices=RiskLevel.choices, blank=True
    )
    region = models.JSONField(_("changed region"), null=True, blank=True)
    heatmap = models.FileField(_("difference heatmap"), max_length=300, blank=True)
    #: The matched original warped into the claim's frame: same scale and orientation.
    aligned_original = models.FileField(_("aligned original"), max_length=300, blank=True)
    thumbnail = models.FileField(_("thumbnail"), max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispute", "sha256"], name="claim_image_dispute_sha256"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    phash__isnull=True,
                    phash_band0__isnull=True,
                    phash_band1__isnull=True,
                    phash_band2__isnull=True,
                    phash_band3__isnull=True,
                )
                | models.Q(
                    phash__isnull=False,
                    phash_band0__isnull=False,
                    phash_band1__isnull=False,
                    phash_band2__isnull=False,
                    phash_band3__isnull=False,
                ),
                name="claim_image_phash_bands",
            ),
        ]
        indexes = [
            models.Index(fields=["analysis_status", "uploaded_at"]),
            models.Index(fields=["phash_band0"], name="claim_image_phash_band0"),
            models.Index(fields=["phash_band1"], name="claim_image_phash_band1"),
            models.Index(fields=["phash_band2"], name="claim_image_phash_band2"),
            models.Index(fields=["phash_band3"], name="claim_image_phash_band3"),
        ]
        verbose_name = _("claim image")
        verbose_name_plural = _("claim images")

    #: The band columns, in band order (``forensics.phash_bands``).
    PHASH_BAND_FIELDS = tuple(f"phash_band{i}" for i in range(BAND_COUNT))

    def __str__(self) -> str:
        return f"{self.original_name} ({self.dispute})"

    def set_phash(self, value: bytes | None) -> None:
        """Set the pHash and its indexed bands together (the reuse lookup's keys)."""
        self.phash = value
        bands = phash_bands(value) if value is not None else (None,) * BAND_COUNT
        for field, band in zip(self.PHASH_BAND_FIELDS, bands, strict=True):
            setattr(self, field, band)


#: The kinds of finding (``forensics.findings``), as ``Finding.code`` offers them.
FINDING_CODE_CHOICES = [(kind.code.value, _(kind.title)) for kind in FINDING_KINDS.values()]


class Finding(models.Model):
    """One thing the analysis found about a claim image, with its evidence."""

    claim_image = models.ForeignKey(ClaimImage, on_delete=models.CASCADE, related_name="findings")
    code = models.CharField(max_length=40, choices=FINDING_CODE_CHOICES)
    weight = models.FloatField()
    message = models.TextField()
    evidence = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-weight", "id"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")

    #: Codes whose evidence names the merchant's original (``original_kind``/``_id``/
    #: ``_label``): an edited copy, and a near copy shown beside it for comparison.
    ORIGINAL_CODES = frozenset({FindingCode.DERIVED_FROM_ORIGINAL, FindingCode.NEAR_COPY})

    def __str__(self) -> str:
        return f"{self.code} ({self.weight:.2f})"

    @property
    def names_original(self) -> bool:
        """Whether this finding points at one of the merchant's originals."""
        return self.code in self.ORIGINAL_CODES


class Decision(models.Model):
    """A person's decision on a dispute."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="decisions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class RequestedFrom(models.TextChoices):
        MERCHANT = "merchant", _("the merchant")
        BUYER = "buyer", _("the buyer")

    outcome = models.CharField(max_length=20, choices=[(s.value, s.label) for s in Dispute.DECIDED])
    requested_from = models.CharField(
        _("evidence requested from"), max_length=10, choices=RequestedFrom.choices, blank=True
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return f"{self.dispute}: {self.outcome}"


class InternalNote(models.Model):
    """A reviewer's note on a dispute; support staff only, never shown to merchants."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="internal_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")

    def __str__(self) -> str:
        return f"{self.dispute}: {self.text[:40]}"


class ReanalysisSchedule(models.Model):
    """A merchant's re-analysis after new evidence, waiting or running: one row per
    merchant at most (the merchant is the key), so a burst of uploads sends one task
    (``disputes.reanalysis_schedule``). The sweeper sends the task again for a row stuck
    in either state."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Running")

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED
    )
    #: When the first evidence it waits for arrived: the wait is capped from here.
    opened_at = models.DateTimeField(_("opened at"))
    #: When the status was last set (the sweeper's clock).
    status_since = models.DateTimeField(_("status since"))

    class Meta:
        verbose_name = _("scheduled re-analysis")
        verbose_name_plural = _("scheduled re-analyses")

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.status}"


class PendingEvidence(models.Model):
    """A reference photo or packing video made ready since the merchant's open claims
    were last matched against new evidence; the re-analysis that takes it in deletes it."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    reference_photo = models.ForeignKey(
        ReferencePhoto, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    packing_video = models.ForeignKey(
        PackingVideo, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    #: When it was (last) made ready: a re-analysis deletes only what it has seen.
    arrived_at = models.DateTimeField(_("arrived at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reference_photo"], name="pending_evidence_photo"),
            models.UniqueConstraint(fields=["packing_video"], name="pending_evidence_video"),
            models.CheckConstraint(
                condition=models.Q(reference_photo__isnull=False, packing_video__isnull=True)
                | models.Q(reference_photo__isnull=True, packing_video__isnull=False),
                name="pending_evidence_one_kind",
            ),
        ]
        verbose_name = _("evidence awaiting re-analysis")
        verbose_name_plural = _("evidence awaiting re-analysis")

    def __str__(self) -> str:
        if self.reference_photo_id is not None:
            return f"photo:{self.reference_photo_id}"
        return f"video:{self.packing_video_id}"


class OriginalIndexSegment(models.Model):
    """One stored segment of a merchant's index of originals (``disputes.evidence_index``):
    a file in the project's storage (``forensics.index_segments``) holding some originals'
    fingerprints as flat arrays. A merchant's live rows, in ``seq`` order, are the whole
    index: new photos and keyframes add a row; a compaction replaces several by one."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    #: Order within the merchant's index; never reused (a compaction takes the next one).
    seq = models.PositiveIntegerField()
    #: Storage name of the segment file; empty for a segment that found nothing to add.
    file = models.CharField(max_length=255, blank=True)
    originals = models.PositiveIntegerField(default=0)
    descriptors = models.PositiveBigIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    #: The merchant's fingerprint signature (``evidence_index._signature``) when this
    #: segment was made: the index is current while the signature is unchanged.
    fingerprints_count = models.PositiveIntegerField(default=0)
    fingerprints_newest = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "seq"], name="index_segment_merchant_seq")
        ]
        verbose_name = _("index segment")
        verbose_name_plural = _("index segments")

    def __str__(self) -> str:
        return f"{self.merchant_id}#{self.seq}: {self.originals} originals"
