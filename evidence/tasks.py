"""Celery tasks: load a row by id and call its service. Nothing else lives here."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.db import DatabaseError

from evidence import services
from evidence.models import PackingVideo, ReferencePhoto

logger = logging.getLogger(__name__)

# Transient: storage hiccups and database disconnects. Bad input never raises (the
# services record it as a failure), so it is never retried.
TRANSIENT_ERRORS = (OSError, DatabaseError)
RETRY_OPTIONS: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


class _MarksFailure(Task):
    """Records the final failure on the row so nothing stays ``processing`` forever."""

    mark_failed: Any = None

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if self.mark_failed is not None and args:
            self.mark_failed(args[0], f"Processing failed after retries: {exc}")


class _PhotoTask(_MarksFailure):
    @staticmethod
    def mark_failed(photo_id: int, reason: str) -> None:
        services.photo_mark_failed(photo_id=photo_id, reason=reason)


class _VideoTask(_MarksFailure):
    @staticmethod
    def mark_failed(video_id: int, reason: str) -> None:
        services.video_mark_failed(video_id=video_id, reason=reason)


@shared_task(base=_PhotoTask, name="evidence.photo_fingerprint", **RETRY_OPTIONS)
def photo_fingerprint_task(photo_id: int) -> None:
    """Fingerprint one reference photo."""
    try:
        services.photo_fingerprint(photo_id=photo_id)
    except ReferencePhoto.DoesNotExist:
        logger.warning("reference photo %s no longer exists; nothing to do", photo_id)


@shared_task(base=_VideoTask, name="evidence.video_process", **RETRY_OPTIONS)
def video_process_task(video_id: int) -> None:
    """Extract and fingerprint one packing video's keyframes."""
    try:
        services.video_process(video_id=video_id)
    except PackingVideo.DoesNotExist:
        logger.warning("packing video %s no longer exists; nothing to do", video_id)
