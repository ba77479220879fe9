"""Celery tasks: load a row by id and call its service. Nothing else lives here."""

from __future__ import annotations

import logging

from celery import shared_task

from core.tasks import RETRY_OPTIONS, RecordsFinalFailure
from evidence import services
from evidence.models import PackingVideo, ReferencePhoto

logger = logging.getLogger(__name__)


class _PhotoTask(RecordsFinalFailure):
    def mark_failed(self, object_id: int, reason: str) -> None:
        services.photo_mark_failed(photo_id=object_id, reason=reason)


class _VideoTask(RecordsFinalFailure):
    def mark_failed(self, object_id: int, reason: str) -> None:
        services.video_mark_failed(video_id=object_id, reason=reason)


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
