"""The sweeper: send again work that never reached a worker, or whose worker died.

A row stays ``pending`` when the broker was down as its upload committed; it stays
``processing`` when a worker was killed mid-task past the broker's redelivery. Both are
safe to send again: every task is idempotent. Each app registers its own kinds of work
(``stuck_work_register`` in its ``AppConfig.ready``), so this module imports no app. Run
by Celery beat every few minutes (``CELERY_BEAT_SCHEDULE``) and by
``manage.py requeue_pending``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class StuckWork:
    """One kind of row a worker processes, and how to tell that it is stuck."""

    #: What the counts call it ("reference photos").
    label: str
    model: type[Model]
    #: The status field, and its values while waiting for and while held by a worker.
    status_field: str
    pending: str
    processing: str
    #: Dotted path of the Celery task that processes one row, given its id.
    task: str
    #: When the row started waiting.
    since: str = "uploaded_at"


_kinds: dict[str, StuckWork] = {}


def stuck_work_register(work: StuckWork) -> None:
    """Have the sweeper watch one kind of work (again: the same label replaces it)."""
    _kinds[work.label] = work


def stuck_work_kinds() -> list[StuckWork]:
    """Every registered kind, in registration (``INSTALLED_APPS``) order."""
    return list(_kinds.values())


def _stuck(work: StuckWork, pending_before: Any, processing_before: Any) -> list[int]:
    return list(
        work.model._default_manager.filter(
            Q(**{work.status_field: work.pending, f"{work.since}__lte": pending_before})
            | Q(**{work.status_field: work.processing, f"{work.since}__lte": processing_before})
        ).values_list("pk", flat=True)
    )


def stuck_work_requeue(
    *, older_than: timedelta = timedelta(minutes=10), processing_after: timedelta | None = None
) -> dict[str, int]:
    """Re-enqueue stuck rows of every registered kind; returns how many of each.

    ``processing`` rows wait longer (past the task time limit) so a task still running
    is not sent twice."""
    if processing_after is None:
        processing_after = max(older_than, timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2))
    now = timezone.now()
    # Every kind is read before anything is sent: work sent early must not change what
    # counts as stuck for a later kind.
    stuck = [
        (work, _stuck(work, now - older_than, now - processing_after)) for work in _kinds.values()
    ]
    counts = {}
    for work, ids in stuck:
        task = import_string(work.task)
        for object_id in ids:
            task.delay(object_id)
        counts[work.label] = len(ids)
    return counts
