"""Chaos with real processes: a worker killed with SIGKILL in the middle of 100 claim
photos loses none and analyses none twice, once restarted and swept."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from core.models import AuditEvent
from core.sweeper import stuck_work_requeue, work_in_hand
from disputes.models import ClaimImage, Finding
from tests.conftest import wait_for
from tests.disputes.fixtures import jpeg_bytes, open_dispute, reference_photo, sample
from tests.factories import MembershipFactory, ProductFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PHOTOS = 100


def _claims(merchant) -> None:  # type: ignore[no-untyped-def]
    """100 distinct small claim photos in 10 disputes (crops of one sample image)."""
    base = sample("astronaut")
    for d in range(PHOTOS // 10):
        photos = []
        for i in range(10):
            n = d * 10 + i
            crop = base.crop((n, n, 200 + n, 160 + n)).resize((160, 128))
            photos.append((jpeg_bytes(crop), f"claim-{n}.jpg"))
        open_dispute(merchant, photos, external_id=f"CHAOS-{d}")


def _queued() -> int:
    """Messages still waiting in the broker's queues."""
    from django.conf import settings

    from config.celery import app as celery_app

    with celery_app.connection_for_write() as connection:
        client = connection.default_channel.client
        return sum(int(client.llen(queue)) for queue in settings.TASK_QUEUES)


def _status_counts() -> dict[str, int]:
    return dict(Counter(ClaimImage.objects.values_list("analysis_status", flat=True)))


def _settled() -> Callable[[], bool]:
    """A predicate that is true once no photo changed state since its previous call."""
    last: list[dict[str, int]] = [{}]

    def unchanged() -> bool:
        counts = _status_counts()
        changed, last[0] = counts != last[0], counts
        return not changed

    return unchanged


def test_worker_killed_mid_batch_loses_nothing_and_does_nothing_twice(worker):
    merchant = MembershipFactory().merchant
    reference_photo(ProductFactory(merchant=merchant), sample("coffee"))
    _claims(merchant)  # each dispute sends its photos to the broker on commit
    analysed = ClaimImage.objects.filter(analysis_status=ClaimImage.Status.ANALYSED)
    assert wait_for(lambda: analysed.count() >= 20, timeout=120), "the worker did not start"
    worker.kill()
    done_before = analysed.count()
    assert done_before < PHOTOS, "the worker finished before it could be killed"
    worker.start()
    # The restarted worker drains what is still queued. A task the killed worker had taken
    # (running, or received and not yet started) stays unacked in Redis until the
    # visibility timeout, its photo "processing" or "pending"; the beat sweeper sends such
    # work again once it is past its deadline, as done here.
    assert wait_for(lambda: _queued() == 0, timeout=240), "the queue never drained"
    assert wait_for(_settled(), timeout=120, interval=2.0), _status_counts()
    # The live worker is asked what it holds; the killed one's photos are sent again.
    assert work_in_hand(timeout=2) is not None
    stuck_work_requeue(older_than=timedelta(0), processing_after=timedelta(0))
    assert wait_for(lambda: analysed.count() == PHOTOS, timeout=120), _status_counts()
    # Exactly once: one analysis event per photo, one set of findings per photo.
    events = AuditEvent.objects.filter(action="claim_image.analysed")
    per_image: dict[int, int] = {}
    for data in events.values_list("data", flat=True):
        per_image[data["claim_image"]] = per_image.get(data["claim_image"], 0) + 1
    assert len(per_image) == PHOTOS and set(per_image.values()) == {1}
    for image in ClaimImage.objects.all():
        codes = list(Finding.objects.filter(claim_image=image).values_list("code", flat=True))
        assert codes and len(codes) == len(set(codes)), (image.pk, codes)
    print(f"killed after {done_before} of {PHOTOS}; all {PHOTOS} analysed exactly once")


def test_uploads_accepted_while_redis_is_down_are_all_analysed_once_it_is_back(
    transactional_db, media_root, tmp_path
):
    """The broker is down while merchants upload: the uploads succeed (rows + files,
    status pending); when Redis is back, the sweeper sends them and a worker does them."""
    from config.celery import app as celery_app
    from core import embedded_redis
    from evidence.models import ReferencePhoto
    from tests.conftest import WorkerProcess, _reset_broker_connections

    socket_path = tmp_path / "chaos-redis.sock"
    redis_process = embedded_redis.start(socket_path, data_dir=tmp_path)
    url = embedded_redis.redis_url(socket_path)
    old = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = url, False
    _reset_broker_connections()
    worker = WorkerProcess(url, media_root)
    try:
        embedded_redis.stop(redis_process)  # the broker goes down
        merchant = MembershipFactory().merchant
        photo = reference_photo_pending(merchant)
        for d in range(3):
            open_dispute(
                merchant,
                [(jpeg_bytes(sample("astronaut").rotate(d * 5 + i)), f"c{d}{i}.jpg")
                 for i in range(3)],
                external_id=f"OUTAGE-{d}",
            )  # fmt: skip
        pending = ClaimImage.objects.filter(analysis_status=ClaimImage.Status.PENDING)
        assert pending.count() == 9 and ReferencePhoto.objects.get(pk=photo.pk).status == "pending"
        redis_process = embedded_redis.start(socket_path, data_dir=tmp_path)  # back up
        _reset_broker_connections()
        worker.start()
        stuck_work_requeue(older_than=timedelta(0))  # what beat does every 5 minutes
        analysed = ClaimImage.objects.filter(analysis_status=ClaimImage.Status.ANALYSED)
        assert wait_for(lambda: analysed.count() == 9, timeout=180), "uploads were lost"
        assert wait_for(
            lambda: ReferencePhoto.objects.get(pk=photo.pk).status == "fingerprinted", timeout=60
        )
        events = AuditEvent.objects.filter(action="claim_image.analysed").count()
        assert events == 9
    finally:
        worker.stop()
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = old
        _reset_broker_connections()
        embedded_redis.stop(redis_process)


def reference_photo_pending(merchant):  # type: ignore[no-untyped-def]
    """Upload a reference photo (its fingerprinting task cannot be sent: broker down)."""
    from django.core.files.base import ContentFile

    from evidence import services as evidence_services

    product = ProductFactory(merchant=merchant)
    data = jpeg_bytes(sample("coffee"))
    return evidence_services.photo_ingest(
        product=product, upload=ContentFile(data, name="f.jpg"), filename="f.jpg", uploader=None
    ).obj


def test_database_connections_dropped_mid_task_are_retried_to_completion(worker):
    """PostgreSQL kills the worker's connections while it works: tasks retry and finish."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("dropping server-side connections is a PostgreSQL test")
    merchant = MembershipFactory().merchant
    reference_photo(ProductFactory(merchant=merchant), sample("coffee"))
    for d in range(4):
        open_dispute(
            merchant,
            [(jpeg_bytes(sample("rocket").rotate(d * 7 + i)), f"r{d}{i}.jpg") for i in range(5)],
            external_id=f"DROP-{d}",
        )
    killed = 0
    analysed = ClaimImage.objects.filter(analysis_status=ClaimImage.Status.ANALYSED)
    for _ in range(20):
        if analysed.count() >= 20:
            break
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            killed += cursor.fetchone()[0]
        time.sleep(0.4)
    assert killed > 0, "no worker connection was ever dropped"
    assert wait_for(lambda: analysed.count() == 20, timeout=240), "a task did not complete"
    per_image = AuditEvent.objects.filter(action="claim_image.analysed").count()
    assert per_image == 20
    print(f"dropped {killed} worker connections; all 20 photos analysed once")
