"""The sweeper: send again work that never reached a worker, or whose worker died.

A row stays ``pending`` when the broker was down as its upload committed; it stays
``processing`` when a worker was killed mid-task (the broker would hand the task out
again only after its hour-long visibility timeout). A processing row is sent again once
no live worker holds its task — the workers are asked (Celery's inspect), so a dead
worker's rows go back within minutes while a slow task still running is left alone.
Both are safe to send again: every task is idempotent. Each app registers its own kinds of work
(``stuck_work_register`` in its ``AppConfig.ready``), so this module imports no app. Run
by Celery beat every few minutes (``CELERY_BEAT_SCHEDULE``) and by
``manage.py requeue_pending``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


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


def work_in_hand(*, timeout: float) -> set[tuple[str, int]] | None:
    """(task name, row id) of every task the live workers are running or hold, as they
    answer within ``timeout`` seconds; ``None`` when the broker cannot be reached (then
    nobody can tell whether a processing row is still worked on)."""
    from celery import current_app

    try:
        with current_app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=max(1, round(timeout)))
            inspect = current_app.control.inspect(timeout=timeout, connection=connection)
            replies = [inspect.active() or {}, inspect.reserved() or {}]
    except Exception:  # the broker is down or refused us: any error means "cannot ask"
        logger.warning("the sweeper could not ask the workers what they hold", exc_info=True)
        return None
    held: set[tuple[str, int]] = set()
    for reply in replies:
        for tasks in reply.values():
            for task in tasks:
                object_id = _row_id(task.get("args"), task.get("kwargs"))
                if object_id is not None:
                    held.add((str(task.get("name")), object_id))
    return held


def _row_id(args: Any, kwargs: Any) -> int | None:
    """The row id a task was sent with: its first argument, or its one ``…_id`` keyword."""
    if isinstance(args, list | tuple) and args and isinstance(args[0], int):
        return int(args[0])
    if isinstance(kwargs, dict):
        ids = [v for k, v in kwargs.items() if k.endswith("_id") and isinstance(v, int)]
        if len(ids) == 1:
            return int(ids[0])
    return None


def _rows(work: StuckWork, status: str, before: Any) -> list[int]:
    return list(
        work.model._default_manager.filter(
            **{work.status_field: status, f"{work.since}__lte": before}
        ).values_list("pk", flat=True)
    )


def stuck_work_requeue(
    *, older_than: timedelta = timedelta(minutes=10), processing_after: timedelta | None = None
) -> dict[str, int]:
    """Re-enqueue stuck rows of every registered kind; returns how many of each.

    Pending rows uploaded ``older_than`` ago are sent again. Processing rows uploaded
    ``processing_after`` ago (default ``PROCESSING_GRACE_SECONDS``) are sent again when
    no live worker holds their task; if the workers cannot be asked, only those past
    twice the task time limit (no task can still be running then)."""
    if processing_after is None:
        processing_after = timedelta(seconds=settings.PROCESSING_GRACE_SECONDS)
    now = timezone.now()
    # Every kind is read before anything is sent: work sent early must not change what
    # counts as stuck for a later kind.
    found = [
        (
            work,
            _rows(work, work.pending, now - older_than),
            _rows(work, work.processing, now - processing_after),
        )
        for work in _kinds.values()
    ]
    held: set[tuple[str, int]] | None = set()
    if any(processing for _, _, processing in found):
        held = work_in_hand(timeout=settings.SWEEPER_WORKER_REPLY_SECONDS)
    limit = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2)
    counts = {}
    for work, pending, processing in found:
        task = import_string(work.task)
        if held is None:
            past_limit = set(_rows(work, work.processing, limit))
            processing = [pk for pk in processing if pk in past_limit]
        else:
            processing = [pk for pk in processing if (task.name, pk) not in held]
        for object_id in [*pending, *processing]:
            task.delay(object_id)
        counts[work.label] = len(pending) + len(processing)
    return counts
