"""Every write about evidence packs: asking for one, and building it (the worker)."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.access import is_member
from core.audit import audit_chain_head, audit_record
from core.tasks import enqueue_on_commit
from disputes.models import Dispute
from packs.archive import FileChanged, archive_write
from packs.case import PackFile, zip_safe
from packs.contents import pack_contents
from packs.limits import PackLimits, files_select
from packs.models import EvidencePack
from packs.report import report_pdf

logger = logging.getLogger(__name__)

PACKS_PREFIX = "packs/"


def pack_limits() -> PackLimits:
    """The caps configured for this deployment."""
    return PackLimits(
        max_pages=settings.PACK_MAX_PAGES,
        max_file_bytes=settings.PACK_MAX_FILE_BYTES,
        max_files=settings.PACK_MAX_FILES,
    )


def evidence_pack_request(*, dispute: Dispute, actor: Any, language: str = "") -> EvidencePack:
    """Ask a worker to build an evidence pack of the dispute (members of its merchant
    only: the pack is what the merchant sends to the platform or the police)."""
    if not is_member(actor, dispute.merchant_id):
        raise PermissionDenied(_("Only the merchant's own people can export an evidence pack."))
    from packs.tasks import evidence_pack_build_task

    with transaction.atomic():
        pack = EvidencePack.objects.create(
            dispute=dispute,
            requested_by=actor,
            language=language or translation.get_language() or settings.LANGUAGE_CODE,
            step=_("Waiting for a worker"),
        )
        audit_record(
            merchant=dispute.merchant,
            dispute=dispute,
            actor=actor,
            action="pack.requested",
            data={"pack": pack.pk},
        )
        enqueue_on_commit(evidence_pack_build_task, pack.pk)
    return pack


def _progress(pack_id: int, percent: int, step: str) -> None:
    EvidencePack.objects.filter(pk=pack_id).update(progress=percent, step=step)


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as fh:
        return bytes(fh.read())


def _open(name: str) -> IO[bytes]:
    return default_storage.open(name, "rb")


def _hashed(item: PackFile) -> PackFile:
    """A derived file with its size and SHA-256 (originals carry theirs from upload)."""
    if item.original:
        return item
    data = _read(item.storage_name)
    return replace(item, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def evidence_pack_build(*, pack_id: int) -> EvidencePack:
    """Build the pack: gather, render the PDF, write the ZIP, store both, audit the export.

    Idempotent: a pack already ready is left alone. A stored original whose bytes no
    longer match its upload hash fails the pack with that reason (the export must not
    carry an altered file)."""
    with transaction.atomic():
        pack = EvidencePack.objects.select_for_update().select_related("dispute").get(pk=pack_id)
        if pack.status == EvidencePack.Status.READY:
            return pack
        pack.status = EvidencePack.Status.BUILDING
        pack.save(update_fields=["status"])
    user = pack.requested_by
    dispute = pack.dispute
    limits = pack_limits()
    generated_at = timezone.now()
    with translation.override(pack.language):
        _progress(pack_id, 5, _("Gathering the dispute's evidence"))
        contents = pack_contents(
            user=user, dispute=dispute, stills_per_video=settings.PACK_STILLS_PER_VIDEO
        )
        selected, left_out = files_select([_hashed(f) for f in contents.files], limits)
        # The merchant's chain as it stands now: the pack carries it out of the database's
        # reach.
        head = audit_chain_head(dispute.merchant_id)
        audit_head = head.as_json() if head is not None else None
        _progress(pack_id, 20, _("Writing the PDF report"))
        report = report_pdf(
            contents,
            read=_read,
            archive_files=selected,
            left_out=left_out,
            max_pages=limits.max_pages,
            generated_at=generated_at,
            generated_by=user.get_username(),
            audit_head=audit_head,
        )
        left_out = [*left_out, *report.left_out]
        _progress(pack_id, 60, _("Packing the original files"))
        stem = f"evidence-pack-{zip_safe(dispute.external_id)}-{pack_id}"
        with tempfile.TemporaryDirectory() as folder:
            zip_path = Path(folder) / f"{stem}.zip"

            def zip_progress(done: int, total: int) -> None:
                _progress(
                    pack_id, 60 + round(35 * done / max(1, total)), _("Packing the original files")
                )

            written = archive_write(
                zip_path,
                report=report.pdf,
                files=selected,
                open_file=_open,
                case=contents.case,
                left_out=left_out,
                generated_at=generated_at,
                generated_by=user.get_username(),
                progress=zip_progress,
                audit_head=audit_head,
            )
            pdf_name = default_storage.save(
                f"{PACKS_PREFIX}{dispute.merchant_id}/{stem}.pdf", ContentFile(report.pdf)
            )
            with zip_path.open("rb") as fh:
                zip_name = default_storage.save(
                    f"{PACKS_PREFIX}{dispute.merchant_id}/{stem}.zip", File(fh)
                )
    try:
        with transaction.atomic():
            EvidencePack.objects.filter(pk=pack_id).update(
                status=EvidencePack.Status.READY,
                progress=100,
                step="",
                failure_reason="",
                pdf=pdf_name,
                pdf_pages=report.pages,
                archive=zip_name,
                archive_sha256=written.sha256,
                archive_size=written.size,
                omitted=[item.as_json() for item in left_out],
                finished_at=timezone.now(),
            )
            audit_record(
                merchant=dispute.merchant,
                dispute=dispute,
                actor=user,
                action="pack.exported",
                data={
                    "pack": pack_id,
                    "zip_sha256": written.sha256,
                    "files": len(written.manifest["files"]),
                    "left_out": len(left_out),
                },
            )
    except BaseException:
        for name in (pdf_name, zip_name):
            default_storage.delete(name)
        raise
    return EvidencePack.objects.get(pk=pack_id)


def evidence_pack_mark_failed(*, pack_id: int, reason: str) -> None:
    """Record why the pack could not be built (shown on the page and in the API)."""
    EvidencePack.objects.filter(pk=pack_id).exclude(status=EvidencePack.Status.READY).update(
        status=EvidencePack.Status.FAILED, failure_reason=reason[:2000], step=""
    )


__all__ = [
    "FileChanged",
    "evidence_pack_build",
    "evidence_pack_mark_failed",
    "evidence_pack_request",
    "pack_limits",
]
