"""Signal handlers: new evidence re-scores the merchant's open disputes."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.dispatch import receiver

from evidence.signals import evidence_ready

logger = logging.getLogger(__name__)


@receiver(evidence_ready)
def reanalyse_after_new_evidence(sender: Any, merchant_id: int, **kwargs: Any) -> None:
    """Schedule a re-analysis of the merchant's unmatched open claims, a little later so
    a bulk upload is answered by one pass rather than one per photo."""
    from disputes.tasks import merchant_reanalyse_task

    try:
        merchant_reanalyse_task.apply_async(
            args=[merchant_id], countdown=settings.REANALYSE_DELAY_SECONDS
        )
    except Exception:
        logger.exception("could not schedule re-analysis for merchant %s", merchant_id)
