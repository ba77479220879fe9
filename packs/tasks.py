"""Celery task: build one evidence pack (thin: the service does the work)."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from evidence.tasks import RETRY_OPTIONS
from packs import services
from packs.archive import FileChanged
from packs.models import EvidencePack

logger = logging.getLogger(__name__)


class _PackTask(Task):
    """Records the final failure so a pack never stays "building"."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if args:
            services.evidence_pack_mark_failed(
                pack_id=args[0], reason=f"The pack could not be built: {exc}"
            )


@shared_task(base=_PackTask, name="packs.evidence_pack_build", **RETRY_OPTIONS)
def evidence_pack_build_task(pack_id: int) -> None:
    """Build one evidence pack (PDF + ZIP)."""
    try:
        services.evidence_pack_build(pack_id=pack_id)
    except EvidencePack.DoesNotExist:
        logger.warning("evidence pack %s no longer exists; nothing to do", pack_id)
    except FileChanged as exc:
        # Not transient: an altered original must be looked at, not retried.
        services.evidence_pack_mark_failed(
            pack_id=pack_id,
            reason=f"A stored original no longer matches the hash recorded at upload: {exc}",
        )
