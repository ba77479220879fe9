"""Celery tasks for disputes: load a row by id and call its service."""

from __future__ import annotations

import logging

from celery import shared_task

from core.models import Merchant
from core.tasks import RETRY_OPTIONS, RecordsFinalFailure
from disputes import services
from disputes.models import ClaimImage
from disputes.reanalysis import new_evidence

logger = logging.getLogger(__name__)


class _ClaimImageTask(RecordsFinalFailure):
    """Records the final failure so a claim photo never stays ``processing``."""

    failure_reason = "Analysis failed after retries: {exc}"

    def mark_failed(self, object_id: int, reason: str) -> None:
        services.claim_image_mark_failed(claim_image_id=object_id, reason=reason)


@shared_task(base=_ClaimImageTask, name="disputes.claim_image_analyze", **RETRY_OPTIONS)
def claim_image_analyze_task(claim_image_id: int) -> None:
    """Analyse one claim photo against the merchant's evidence."""
    try:
        services.claim_image_analyze(claim_image_id=claim_image_id)
    except ClaimImage.DoesNotExist:
        logger.warning("claim image %s no longer exists; nothing to do", claim_image_id)


@shared_task(name="disputes.merchant_reanalyse", **RETRY_OPTIONS)
def merchant_reanalyse_task(
    merchant_id: int, reference_photo_id: int | None = None, packing_video_id: int | None = None
) -> None:
    """Re-analyse a merchant's open claims that matched none of their evidence and that the
    new reference photo or packing video could change (``disputes.reanalysis``); all of
    them when neither is named."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        return
    evidence = None
    if reference_photo_id is not None or packing_video_id is not None:
        evidence = new_evidence(
            reference_photo_id=reference_photo_id, packing_video_id=packing_video_id
        )
        if evidence is None or evidence.merchant_id != merchant.pk:
            return  # deleted, failed, or re-processing since: nothing new to match
    services.dispute_reanalyse(
        merchant=merchant, actor=None, only_unmatched=True, evidence=evidence
    )
