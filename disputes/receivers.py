"""Signal handlers: new evidence re-scores the merchant's open disputes it could change."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.dispatch import receiver

from evidence.signals import evidence_ready

logger = logging.getLogger(__name__)


@receiver(evidence_ready)
def reanalyse_after_new_evidence(
    sender: Any,
    merchant_id: int,
    reference_photo_id: int | None = None,
    packing_video_id: int | None = None,
    **kwargs: Any,
) -> None:
    """Schedule a re-analysis of the merchant's unmatched open claims that the new photo
    or video could change (``disputes.reanalysis``), a little later so claims still
    being analysed when the evidence arrived are done by then."""
    from disputes.tasks import merchant_reanalyse_task

    try:
        merchant_reanalyse_task.apply_async(
            args=[merchant_id],
            kwargs={"reference_photo_id": reference_photo_id, "packing_video_id": packing_video_id},
            countdown=settings.REANALYSE_DELAY_SECONDS,
        )
    except Exception:
        logger.exception("could not schedule re-analysis for merchant %s", merchant_id)
