"""New evidence re-analyses a merchant's claims in one debounced pass, not once per file.

Uploading 194 photos used to send 194 re-analysis tasks, and a claim the photos could
match was analysed again after each of them. Now:

- Each reference photo fingerprinted and each packing video made ready is recorded as a
  ``PendingEvidence`` row in the very transaction that made it ready (``evidence_arrived``,
  called by the ``evidence_ready`` receiver), so no evidence is ever forgotten.
- The first one opens the merchant's ``ReanalysisSchedule`` row (the merchant is its key:
  one per merchant) and sends one ``disputes.merchant_reanalyse`` task with a countdown
  of ``REANALYSE_DELAY_SECONDS``; evidence arriving while the row exists sends nothing.
- When the task comes (``reanalysis_run``) and more of the merchant's photos or videos
  are still waiting for or in processing (a bulk upload being worked through), it sends
  itself again for later, never past ``REANALYSE_MAX_WAIT_SECONDS`` after the first
  evidence: one pass for the whole upload.
- The pass marks the row running, takes every pending row, matches the union of that
  evidence against the merchant's unmatched open claims (``disputes.reanalysis``: only the
  claims it could change are queued, each once), then deletes the rows it took. Evidence
  that arrived during the pass is still pending then: the row goes back to scheduled with
  a new task. Otherwise the row is deleted.

Both writers lock the schedule row first (``SELECT … FOR UPDATE``; SQLite serialises its
writers anyway), so a pass either sees a piece of evidence or leaves it for the next one.
A lost task loses nothing: the pending rows and the schedule are in the database, and the
sweeper (``core.sweeper``) sends the task again for a row still scheduled 10 minutes late,
or running with no live worker holding its task.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import Merchant
from disputes.models import PendingEvidence, ReanalysisSchedule
from disputes.reanalysis import new_evidence
from disputes.services import dispute_reanalyse
from evidence.models import PackingVideo, ReferencePhoto

logger = logging.getLogger(__name__)

_SCHEDULED = ReanalysisSchedule.Status.SCHEDULED
_RUNNING = ReanalysisSchedule.Status.RUNNING


def evidence_arrived(
    *,
    merchant_id: int,
    reference_photo_id: int | None = None,
    packing_video_id: int | None = None,
) -> bool:
    """Record a photo or video just made ready as pending evidence of its merchant and
    make sure one re-analysis is scheduled. Call it inside the transaction that made the
    evidence ready: the task is sent when that commits. Returns whether a task is sent
    (False: one is already scheduled or running, and will take this evidence in)."""
    if (reference_photo_id is None) == (packing_video_id is None):
        raise ValueError("name exactly one of reference_photo_id and packing_video_id")
    now = timezone.now()
    with transaction.atomic():
        # The schedule row first, in every writer: one lock order, no deadlock.
        _schedule, created = ReanalysisSchedule.objects.select_for_update().get_or_create(
            merchant_id=merchant_id,
            defaults={"status": _SCHEDULED, "opened_at": now, "status_since": now},
        )
        lookup = (
            {"reference_photo_id": reference_photo_id}
            if reference_photo_id is not None
            else {"packing_video_id": packing_video_id}
        )
        PendingEvidence.objects.get_or_create(
            **lookup, defaults={"merchant_id": merchant_id, "arrived_at": now}
        )
        if created:
            _send_on_commit(merchant_id, countdown=settings.REANALYSE_DELAY_SECONDS)
    return created


def reanalysis_run(*, merchant_id: int, wait: bool = True) -> int:
    """The merchant's scheduled re-analysis (see the module): returns how many claim
    photos it queued. With ``wait`` (a task sent with a countdown) it first sends itself
    again for later while the merchant's evidence is still being processed; without (an
    eager run, a command) it runs at once."""
    with transaction.atomic():
        schedule = (
            ReanalysisSchedule.objects.select_for_update().filter(merchant_id=merchant_id).first()
        )
        if schedule is None:
            return 0  # a duplicate delivery after the pass: nothing pending
        now = timezone.now()
        if wait and schedule.status == _SCHEDULED:
            later = _seconds_to_wait(schedule, now)
            if later > 0:
                schedule.status_since = now
                schedule.save(update_fields=["status_since"])
                _send_on_commit(merchant_id, countdown=later)
                return 0
        # A running row here is a pass whose worker died or whose task is retried: take over.
        schedule.status = _RUNNING
        schedule.status_since = now
        schedule.save(update_fields=["status", "status_since"])
        taken = list(
            PendingEvidence.objects.filter(merchant_id=merchant_id).values_list(
                "pk", "reference_photo_id", "packing_video_id"
            )
        )
    queued = 0
    evidence = new_evidence(
        merchant_id,
        reference_photo_ids=[photo for _, photo, _ in taken if photo is not None],
        packing_video_ids=[video for _, _, video in taken if video is not None],
    )
    if evidence is not None:
        merchant = Merchant.objects.get(pk=merchant_id)
        queued = dispute_reanalyse(
            merchant=merchant, actor=None, only_unmatched=True, evidence=evidence
        )
    with transaction.atomic():
        schedule = (
            ReanalysisSchedule.objects.select_for_update().filter(merchant_id=merchant_id).first()
        )
        PendingEvidence.objects.filter(pk__in=[pk for pk, _, _ in taken]).delete()
        if PendingEvidence.objects.filter(merchant_id=merchant_id).exists():
            # Arrived during the pass: its writer saw the row and sent nothing.
            now = timezone.now()
            ReanalysisSchedule.objects.update_or_create(
                merchant_id=merchant_id,
                defaults={"status": _SCHEDULED, "opened_at": now, "status_since": now},
            )
            _send_on_commit(merchant_id, countdown=settings.REANALYSE_DELAY_SECONDS)
        elif schedule is not None:
            schedule.delete()
    return queued


def _seconds_to_wait(schedule: ReanalysisSchedule, now: datetime) -> float:
    """How much longer a scheduled pass waits (0: run now): until the delay after the
    first evidence is over, then while the merchant's photos or videos are still waiting
    for or in processing, but never past the longest wait."""
    due = schedule.opened_at + timedelta(seconds=settings.REANALYSE_DELAY_SECONDS)
    if now < due:
        return (due - now).total_seconds()
    deadline = schedule.opened_at + timedelta(seconds=settings.REANALYSE_MAX_WAIT_SECONDS)
    if now >= deadline or not _evidence_in_progress(schedule.merchant_id):
        return 0.0
    return min(float(settings.REANALYSE_DELAY_SECONDS), (deadline - now).total_seconds())


def _evidence_in_progress(merchant_id: int) -> bool:
    """Whether any of the merchant's photos or videos is still waiting for or in
    processing: more evidence is on its way."""
    busy_photos = (ReferencePhoto.Status.PENDING, ReferencePhoto.Status.PROCESSING)
    busy_videos = (PackingVideo.Status.PENDING, PackingVideo.Status.PROCESSING)
    return (
        ReferencePhoto.objects.filter(merchant_id=merchant_id, status__in=busy_photos).exists()
        or PackingVideo.objects.filter(merchant_id=merchant_id, status__in=busy_videos).exists()
    )


def _send_on_commit(merchant_id: int, *, countdown: float) -> None:
    """Send the merchant's re-analysis task once the transaction commits. A broker that
    is down loses nothing: the schedule row stays and the sweeper sends it again."""
    from disputes.tasks import merchant_reanalyse_task

    def send() -> None:
        try:
            merchant_reanalyse_task.apply_async(args=[merchant_id], countdown=countdown)
        except Exception:
            logger.exception(
                "could not schedule the re-analysis of merchant %s; the sweeper will",
                merchant_id,
            )

    transaction.on_commit(send)
