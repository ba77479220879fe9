"""Signal handlers: new evidence re-scores the merchant's open disputes it could change."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from evidence.signals import evidence_ready


@receiver(evidence_ready)
def reanalyse_after_new_evidence(
    sender: Any,
    merchant_id: int,
    reference_photo_id: int | None = None,
    packing_video_id: int | None = None,
    **kwargs: Any,
) -> None:
    """Record the new photo or video as pending evidence of its merchant, in the
    transaction that made it ready, and schedule the merchant's one debounced
    re-analysis (``disputes.reanalysis_schedule``)."""
    from disputes.reanalysis_schedule import evidence_arrived

    evidence_arrived(
        merchant_id=merchant_id,
        reference_photo_id=reference_photo_id,
        packing_video_id=packing_video_id,
    )


@receiver(evidence_ready)
def extend_index_after_new_evidence(sender: Any, merchant_id: int, **kwargs: Any) -> None:
    """Append the new photo's or video's originals to the merchant's stored index once
    the transaction that made them ready commits (``disputes.evidence_index``)."""
    from core.tasks import enqueue_on_commit
    from disputes.tasks import original_index_extend_task

    enqueue_on_commit(original_index_extend_task, merchant_id)
