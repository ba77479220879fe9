"""An evidence pack: built once by a worker from a dispute, kept with its files' hashes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from disputes.models import Dispute


class EvidencePack(models.Model):
    """One export of a dispute: a PDF report and a ZIP (PDF, originals, derived images,
    ``manifest.json``, ``evidence.json``), built by a Celery task with progress."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        BUILDING = "building", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="packs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    #: The report is written in the language of whoever asked for it.
    language = models.CharField(max_length=16, default="en")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(_("step"), max_length=200, blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    pdf = models.FileField(_("PDF report"), max_length=300, blank=True)
    pdf_pages = models.PositiveIntegerField(_("PDF pages"), default=0)
    archive = models.FileField(_("ZIP archive"), max_length=300, blank=True)
    archive_sha256 = models.CharField(_("ZIP SHA-256"), max_length=64, blank=True)
    archive_size = models.PositiveBigIntegerField(_("ZIP size (bytes)"), default=0)
    #: What the caps (pages, file size, file count) left out, as listed in the pack.
    omitted = models.JSONField(_("left out"), default=list, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["dispute", "-created_at"])]
        verbose_name = _("evidence pack")
        verbose_name_plural = _("evidence packs")

    def __str__(self) -> str:
        return f"Evidence pack {self.pk} of {self.dispute}"

    @property
    def busy(self) -> bool:
        """Whether a worker still has to finish it."""
        return self.status in (self.Status.PENDING, self.Status.BUILDING)
