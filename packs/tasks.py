"""Celery task: build one evidence pack (thin: the service does the work)."""

from __future__ import annotations

import logging

from celery import shared_task

from core.tasks import RETRY_OPTIONS, RecordsFinalFailure
from packs import services
from packs.archive import FileChanged
from packs.models import EvidencePack

logger = logging.getLogger(__name__)


class _PackTask(RecordsFinalFailure):
    """Records the final failure so a pack never stays "building"."""

    failure_reason = "The pack could not be built: {exc}"

    def mark_failed(self, object_id: int, reason: str) -> None:
        services.evidence_pack_mark_failed(pack_id=object_id, reason=reason)


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
