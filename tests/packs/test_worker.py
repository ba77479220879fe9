"""A real Celery worker process builds the pack the merchant asked for."""

from __future__ import annotations

import zipfile

import pytest

from packs import services
from packs.models import EvidencePack
from tests.conftest import wait_for
from tests.packs.test_build import local_path

pytestmark = [pytest.mark.integration]


def test_a_real_worker_builds_the_pack_and_reports_progress(exportable, worker) -> None:
    owner, dispute = exportable  # analysed eagerly, before the worker fixture started
    pack = services.evidence_pack_request(dispute=dispute, actor=owner.user)
    assert EvidencePack.objects.get(pk=pack.pk).status == EvidencePack.Status.PENDING
    ready = EvidencePack.objects.filter(pk=pack.pk, status=EvidencePack.Status.READY)
    assert wait_for(ready.exists, timeout=120), EvidencePack.objects.get(pk=pack.pk).failure_reason
    pack.refresh_from_db()
    assert pack.progress == 100 and pack.finished_at is not None
    with zipfile.ZipFile(local_path(pack.archive.name)) as zf:
        assert zf.testzip() is None and "report.pdf" in zf.namelist()
