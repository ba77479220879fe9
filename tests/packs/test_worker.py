"""A real Celery worker process builds the pack the merchant asked for."""

from __future__ import annotations

import zipfile

import pytest
from django.core.files.storage import default_storage

from packs import services
from packs.models import EvidencePack
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration]


def test_a_real_worker_builds_the_pack_and_reports_progress(exportable, worker) -> None:
    owner, dispute = exportable  # analysed eagerly, before the worker fixture started
    pack = services.evidence_pack_request(dispute=dispute, actor=owner.user)
    assert EvidencePack.objects.get(pk=pack.pk).status == EvidencePack.Status.PENDING
    ready = EvidencePack.objects.filter(pk=pack.pk, status=EvidencePack.Status.READY)
    assert wait_for(ready.exists, timeout=120), EvidencePack.objects.get(pk=pack.pk).failure_reason
    pack.refresh_from_db()
    assert pack.progress == 100 and pack.finished_at is not None
    with zipfile.ZipFile(default_storage.path(pack.archive.name)) as zf:
        assert zf.testzip() is None and "report.pdf" in zf.namelist()
