"""Celery tasks for disputes: load a row by id and call its service."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from core.tasks import RETRY_OPTIONS, RecordsFinalFailure
from disputes import evidence_index, reanalysis_schedule, services
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


@shared_task(bind=True, name="disputes.merchant_reanalyse", **RETRY_OPTIONS)
def merchant_reanalyse_task(
    self: Task,
    merchant_id: int,
    reference_photo_id: int | None = None,
    packing_video_id: int | None = None,
) -> int:
    """The merchant's one debounced re-analysis after new evidence
    (``disputes.reanalysis_schedule``): the unmatched open claims that any of the evidence
    made ready since the last pass could change, each queued once."""
    if reference_photo_id is not None or packing_video_id is not None:
        # Sent per file by an earlier release (still queued at an upgrade): its evidence
        # joins the merchant's pending evidence and the one scheduled pass.
        evidence = new_evidence(
            merchant_id,
            reference_photo_ids=[reference_photo_id] if reference_photo_id else [],
            packing_video_ids=[packing_video_id] if packing_video_id else [],
        )
        if evidence is not None:
            reanalysis_schedule.evidence_arrived(
                merchant_id=merchant_id,
                reference_photo_id=reference_photo_id,
                packing_video_id=None if reference_photo_id else packing_video_id,
            )
        return 0
    # Run eagerly (tests, no broker) there is no countdown to wait on: run at once.
    return reanalysis_schedule.reanalysis_run(
        merchant_id=merchant_id, wait=not self.request.is_eager
    )


@shared_task(name="disputes.original_index_extend", **RETRY_OPTIONS)
def original_index_extend_task(merchant_id: int) -> int:
    """Append the merchant's new originals to their stored index (the whole index the
    first time; ``disputes.evidence_index.original_index_extend``)."""
    return evidence_index.original_index_extend(merchant_id)
