"""Celery tasks for disputes: load a row by id and call its service."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from disputes import services
from disputes.models import ClaimImage
from evidence.models import Merchant
from evidence.tasks import RETRY_OPTIONS

logger = logging.getLogger(__name__)


class _ClaimImageTask(Task):
    """Records the final failure so a claim photo never stays ``processing``."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if args:
            services.claim_image_mark_failed(
                claim_image_id=args[0], reason=f"Analysis failed after retries: {exc}"
            )


@shared_task(base=_ClaimImageTask, name="disputes.claim_image_analyze", **RETRY_OPTIONS)
def claim_image_analyze_task(claim_image_id: int) -> None:
    """Analyse one claim photo against the merchant's evidence."""
    try:
        services.claim_image_analyze(claim_image_id=claim_image_id)
    except ClaimImage.DoesNotExist:
        logger.warning("claim image %s no longer exists; nothing to do", claim_image_id)


@shared_task(name="disputes.merchant_reanalyse", **RETRY_OPTIONS)
def merchant_reanalyse_task(merchant_id: int) -> None:
    """Re-analyse a merchant's open claims that matched none of their evidence."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is not None:
        services.dispute_reanalyse(merchant=merchant, only_unmatched=True)


@shared_task
def stuck_work_requeue_task() -> dict[str, int]:
    """The periodic sweeper (Celery beat): re-enqueue work stuck in pending/processing."""
    from disputes.stuck_work import stuck_work_requeue

    return stuck_work_requeue()
