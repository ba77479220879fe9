"""The sweeper: send again work that never reached a worker, or whose worker died
(reference photos, packing videos, claim photos, evidence packs).

A row stays ``pending`` when the broker was down as its upload committed; it stays
``processing`` when a worker was killed mid-task past the broker's redelivery. Both are
safe to send again: every task is idempotent. Run by Celery beat every few minutes
(``CELERY_BEAT_SCHEDULE``) and by ``manage.py requeue_pending``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from disputes.models import ClaimImage
from evidence.models import PackingVideo, ReferencePhoto


def _stuck(
    rows: QuerySet[Any],
    field: str,
    pending: str,
    processing: str,
    cutoffs: tuple[Any, Any],
    since: str = "uploaded_at",
) -> list[int]:
    pending_before, processing_before = cutoffs
    return list(
        rows.filter(
            Q(**{field: pending, f"{since}__lte": pending_before})
            | Q(**{field: processing, f"{since}__lte": processing_before})
        ).values_list("pk", flat=True)
    )


def stuck_work_requeue(
    *, older_than: timedelta = timedelta(minutes=10), processing_after: timedelta | None = None
) -> dict[str, int]:
    """Re-enqueue stuck photos, videos and claim photos; returns how many of each.

    ``processing`` rows wait longer (past the task time limit) so a task still running
    is not sent twice."""
    from disputes.tasks import claim_image_analyze_task
    from evidence.tasks import photo_fingerprint_task, video_process_task
    from packs.models import EvidencePack
    from packs.tasks import evidence_pack_build_task

    if processing_after is None:
        processing_after = max(older_than, timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2))
    now = timezone.now()
    cutoffs = (now - older_than, now - processing_after)
    work = [
        (
            "reference photos",
            _stuck(
                ReferencePhoto.objects.all(),
                "status",
                ReferencePhoto.Status.PENDING,
                ReferencePhoto.Status.PROCESSING,
                cutoffs,
            ),
            photo_fingerprint_task,
        ),
        (
            "packing videos",
            _stuck(
                PackingVideo.objects.all(),
                "status",
                PackingVideo.Status.PENDING,
                PackingVideo.Status.PROCESSING,
                cutoffs,
            ),
            video_process_task,
        ),
        (
            "claim photos",
            _stuck(
                ClaimImage.objects.all(),
                "analysis_status",
                ClaimImage.Status.PENDING,
                ClaimImage.Status.PROCESSING,
                cutoffs,
            ),
            claim_image_analyze_task,
        ),
        (
            "evidence packs",
            _stuck(
                EvidencePack.objects.all(),
                "status",
                EvidencePack.Status.PENDING,
                EvidencePack.Status.BUILDING,
                cutoffs,
                since="created_at",
            ),
            evidence_pack_build_task,
        ),
    ]
    counts = {}
    for label, ids, task in work:
        for object_id in ids:
            task.delay(object_id)
        counts[label] = len(ids)
    return counts
