"""Several machines, no shared disk: the web app and two real Celery worker processes,
each with its own local folders (media, var, audit anchors), sharing only the database,
Redis and the S3 server. One worker takes the evidence queues, the other the rest, so
the claim is analysed and the pack built from what another process wrote to the bucket.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.utils import timezone

from api import services as api_services
from config.celery import app as celery_app
from core.audit import audit_anchor_check
from core.models import AuditEvent
from disputes.models import Dispute
from evidence.models import PackingVideo, ReferencePhoto
from packs.models import EvidencePack
from tests.conftest import WorkerProcess, _reset_broker_connections, stored_names, wait_for
from tests.disputes.fixtures import doctored, jpeg_bytes, sample
from tests.evidence.test_services import mp4
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.integration, pytest.mark.s3]

EVIDENCE_TASKS = ("evidence.photo_fingerprint", "evidence.video_process")


def _queue_split() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the evidence worker's queues, the other worker's): photos and videos on one,
    claims, packs and everything else on the other."""
    every = tuple(getattr(django_settings, "TASK_QUEUES", ()))
    routes = getattr(django_settings, "CELERY_TASK_ROUTES", {}) or {}
    evidence = tuple(sorted({routes[t]["queue"] for t in EVIDENCE_TASKS if t in routes}))
    rest = tuple(q for q in every if q not in evidence)
    assert evidence and rest, "the evidence tasks need queues of their own"
    return evidence, rest


class Hosts:
    """Two worker machines: their processes and their local folders."""

    def __init__(self, workers: list[WorkerProcess], folders: list[Path]) -> None:
        self.workers = workers
        self.folders = folders

    def diagnosis(self) -> str:
        """What the workers saw (for a failure on CI): alive or not, and their log tails."""
        parts = []
        for worker in self.workers:
            alive = worker.process is not None and worker.process.poll() is None
            log = worker.log.read_text(errors="replace") if worker.log.exists() else ""
            tail = "\n".join(log.splitlines()[-40:])
            parts.append(f"--- worker {worker.name} (alive: {alive}):\n{tail}")
        return "\n".join(parts)


@pytest.fixture
def two_worker_hosts(
    transactional_db, redis_url: str, object_storage: dict[str, str], tmp_path: Path
) -> Iterator[Hosts]:
    evidence_queues, other_queues = _queue_split()
    workers, folders = [], []
    for name, queues in (("evidence", evidence_queues), ("analysis", other_queues)):
        folder = tmp_path / f"host-{name}"
        media = folder / "media"
        media.mkdir(parents=True)
        env = {**object_storage, "REFUNDGUARD_VAR_DIR": str(folder / "var")}
        workers.append(WorkerProcess(redis_url, media, extra_env=env, queues=queues, name=name))
        folders.append(folder)
    old = {
        "broker_url": celery_app.conf.broker_url,
        "task_always_eager": celery_app.conf.task_always_eager,
    }
    celery_app.conf.broker_url = redis_url
    celery_app.conf.task_always_eager = False
    _reset_broker_connections()
    celery_app.control.purge()
    for process in workers:
        process.start()
    try:
        yield Hosts(workers, folders)
    finally:
        for key, value in old.items():
            setattr(celery_app.conf, key, value)
        _reset_broker_connections()
        for process in workers:
            process.stop()


def ran(task: str, log: str) -> bool:
    """Whether a worker's log shows ``task`` done (not merely listed in its banner)."""
    return re.search(rf"Task {re.escape(task)}\[[^\]]+\] succeeded", log) is not None


def _local_files(folder: Path) -> list[Path]:
    """Evidence bytes on a host's disk (its logs and caches aside)."""
    return [p for p in (folder / "media").rglob("*") if p.is_file()]


@pytest.mark.timeout(900)  # three processes and real work on a busy CI machine
def test_web_and_two_workers_share_only_database_redis_and_s3(
    two_worker_hosts: Hosts, live_server, media_root: Path
) -> None:
    owner = MembershipFactory()
    issued = api_services.token_create(merchant=owner.merchant, actor=owner.user, name="ERP")
    web = requests.Session()
    web.headers["Authorization"] = f"Bearer {issued.secret}"
    api = f"{live_server.url}/api/v1"

    product = web.post(f"{api}/products/", json={"sku": "MUG-1", "title": "Mug"}, timeout=30)
    assert product.status_code == 201, product.text
    product_id = product.json()["id"]
    photos = web.post(
        f"{api}/products/{product_id}/photos/",
        files=[("files", ("front.jpg", jpeg_bytes(sample("coffee")), "image/jpeg"))],
        timeout=60,
    )
    assert photos.status_code == 201, photos.text

    # The packing video in two PATCHes (any web host could take either).
    video = mp4(seconds=4)
    upload = web.post(f"{api}/uploads/", json={"filename": "ORDER-1.mp4", "size": len(video)},
                      timeout=30).json()  # fmt: skip
    half = len(video) // 2
    for offset, chunk in ((0, video[:half]), (half, video[half:])):
        sent = web.patch(
            f"{api}/uploads/{upload['id']}/",
            data=chunk,
            headers={"Upload-Offset": str(offset),
                     "Content-Type": "application/offset+octet-stream"},
            timeout=60,
        )  # fmt: skip
        assert sent.status_code == 200, sent.text
    created = web.post(
        f"{api}/videos/", json={"order_ref": "ORDER-1", "upload": upload["id"]}, timeout=60
    )
    assert created.status_code == 201, created.text

    def evidence_ready() -> bool:
        return (
            ReferencePhoto.objects.filter(status=ReferencePhoto.Status.FINGERPRINTED).count() == 1
            and PackingVideo.objects.filter(status=PackingVideo.Status.READY).count() == 1
        )

    assert wait_for(evidence_ready, timeout=180), two_worker_hosts.diagnosis()

    claim, _box = doctored(sample("coffee"))
    opened = web.post(
        f"{api}/disputes/",
        data={
            "platform": "taobao", "external_id": "TB-SCALE-1", "order_ref": "ORDER-1",
            "claim_type": "refund_only", "reason": "Cracked", "amount": "129.00",
            "currency": "CNY", "respond_by": (timezone.now() + timedelta(days=2)).isoformat(),
            "product": product_id,
        },
        files=[("photos", ("broken.jpg", jpeg_bytes(claim), "image/jpeg")),
               ("photos", ("other.jpg", jpeg_bytes(sample("astronaut")), "image/jpeg"))],
        timeout=60,
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    dispute_id = opened.json()["id"]

    def analysed() -> bool:
        return Dispute.objects.get(pk=dispute_id).status == Dispute.Status.NEEDS_REVIEW

    assert wait_for(analysed, timeout=180), two_worker_hosts.diagnosis()
    dispute = Dispute.objects.get(pk=dispute_id)
    assert dispute.risk_level == "high"

    asked = web.post(f"{api}/disputes/{dispute_id}/evidence-packs/", timeout=30)
    assert asked.status_code == 202, asked.text
    pack_id = asked.json()["id"]
    ready = EvidencePack.objects.filter(pk=pack_id, status=EvidencePack.Status.READY)
    assert wait_for(ready.exists, timeout=180), (
        f"{EvidencePack.objects.get(pk=pack_id).failure_reason}\n{two_worker_hosts.diagnosis()}"
    )
    pack = web.get(f"{api}/evidence-packs/{pack_id}/", timeout=30).json()
    archive = web.get(pack["zip_url"], timeout=60)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
    assert "report.pdf" in names and any("broken.jpg" in n for n in names)

    # Each worker did its share, and no machine kept evidence on its own disk.
    evidence_log, analysis_log = (
        w.log.read_text(errors="replace") for w in two_worker_hosts.workers
    )
    assert ran("evidence.photo_fingerprint", evidence_log)
    assert ran("evidence.video_process", evidence_log)
    assert ran("disputes.claim_image_analyze", analysis_log)
    assert ran("packs.evidence_pack_build", analysis_log)
    assert not ran("disputes.claim_image_analyze", evidence_log)
    for folder in two_worker_hosts.folders:
        assert _local_files(folder) == [], folder
    assert [p for p in media_root.rglob("*") if p.is_file()] == []
    stored = stored_names()
    assert any(name.startswith("derived/") for name in stored)  # thumbnails, keyframes
    assert any(name.startswith("packs/") for name in stored)

    # Every process's audit anchors (the web app's and both workers') are in the bucket,
    # so verify_custody on any one host checks them all; no host kept a log of its own.
    def all_anchored() -> bool:
        check = audit_anchor_check()
        return check.found and check.anchors == AuditEvent.objects.count()

    assert wait_for(all_anchored, timeout=30), audit_anchor_check()
    assert audit_anchor_check().problems == []
    for folder in two_worker_hosts.folders:
        assert not (folder / "anchors.log").exists()
