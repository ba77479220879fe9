"""Sending work to the Celery workers once the data it needs has been committed."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Any, object_id: int) -> None:
    """Send ``task(object_id)`` after the surrounding transaction commits.

    A broker that is down does not fail the request: the row stays pending and the
    sweeper (``disputes.stuck_work``, every few minutes) sends it again."""

    def send() -> None:
        try:
            task.delay(object_id)
        except Exception:
            logger.exception("could not enqueue %s(%s); it stays pending", task.name, object_id)

    transaction.on_commit(send)
