"""`requeue_pending` sends stuck work again, and only stuck work."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from disputes.models import ClaimImage
from evidence.models import ReferencePhoto
from tests.disputes.fixtures import jpeg_bytes, open_dispute, reference_photo, sample
from tests.factories import MembershipFactory, ProductFactory


@pytest.mark.django_db
def test_stuck_rows_are_processed_again():
    merchant = MembershipFactory().merchant
    done = reference_photo(ProductFactory(merchant=merchant), sample("rocket"))
    stuck = reference_photo(ProductFactory(merchant=merchant), sample("coffee"), "stuck.jpg")
    dispute = open_dispute(merchant, [(jpeg_bytes(sample("astronaut")), "c.jpg")])
    long_ago = timezone.now() - timedelta(hours=1)
    ReferencePhoto.objects.filter(pk=stuck.pk).update(status="pending", uploaded_at=long_ago)
    ClaimImage.objects.filter(dispute=dispute).update(uploaded_at=long_ago)

    out = io.StringIO()
    call_command("requeue_pending", "--older-than", "10", stdout=out)  # tasks run eagerly

    assert "reference photos: 1 re-enqueued" in out.getvalue()
    assert "claim photos: 1 re-enqueued" in out.getvalue()
    stuck.refresh_from_db()
    done.refresh_from_db()
    assert stuck.status == done.status == "fingerprinted"
    assert ClaimImage.objects.get(dispute=dispute).analysis_status == "analysed"


@pytest.mark.django_db
def test_sweeper_sends_stuck_work_again_but_not_work_in_progress(membership, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from core import sweeper
    from core.sweeper import stuck_work_requeue
    from disputes import tasks as dispute_tasks
    from disputes.models import ClaimImage
    from tests.disputes.fixtures import jpeg_bytes, open_dispute, sample

    dispute = open_dispute(
        membership.merchant,
        [(jpeg_bytes(sample("coffee")), "a.jpg"), (jpeg_bytes(sample("rocket")), "b.jpg"),
         (jpeg_bytes(sample("astronaut")), "c.jpg")],
    )  # fmt: skip
    old, running, fresh = dispute.claim_images.order_by("id")
    hour_ago = timezone.now() - timedelta(hours=1)
    ClaimImage.objects.filter(pk=old.pk).update(uploaded_at=hour_ago)
    ClaimImage.objects.filter(pk=running.pk).update(
        uploaded_at=timezone.now() - timedelta(minutes=12),
        analysis_status=ClaimImage.Status.PROCESSING,
    )
    task_name = dispute_tasks.claim_image_analyze_task.name
    sent: list[int] = []
    monkeypatch.setattr(dispute_tasks.claim_image_analyze_task, "delay", sent.append)
    # A live worker holds the processing photo's task: it is left alone.
    monkeypatch.setattr(sweeper, "work_in_hand", lambda **kw: {(task_name, running.pk)})
    counts = stuck_work_requeue(older_than=timedelta(minutes=10))
    assert sent == [old.pk]  # not the one a worker is on, nor the fresh one
    assert counts["claim photos"] == 1
    # Its worker died: no live worker holds it, so it is sent again past the grace.
    monkeypatch.setattr(sweeper, "work_in_hand", lambda **kw: set())
    sent.clear()
    stuck_work_requeue(older_than=timedelta(minutes=10))
    assert sorted(sent) == sorted([old.pk, running.pk])
    assert fresh.pk not in sent
    # The workers cannot be asked (broker down): only past twice the task time limit.
    monkeypatch.setattr(sweeper, "work_in_hand", lambda **kw: None)
    sent.clear()
    stuck_work_requeue(older_than=timedelta(minutes=10))
    assert sent == [old.pk]
    ClaimImage.objects.filter(pk=running.pk).update(uploaded_at=hour_ago)
    sent.clear()
    stuck_work_requeue(older_than=timedelta(minutes=10))
    assert sorted(sent) == sorted([old.pk, running.pk])


def test_a_processing_photo_is_not_sent_again_within_the_grace(membership, monkeypatch, settings):
    from core import sweeper
    from disputes import tasks as dispute_tasks

    dispute = open_dispute(membership.merchant, [(jpeg_bytes(sample("coffee")), "a.jpg")])
    photo = dispute.claim_images.get()
    ClaimImage.objects.filter(pk=photo.pk).update(
        uploaded_at=timezone.now() - timedelta(seconds=30),
        analysis_status=ClaimImage.Status.PROCESSING,
    )
    sent: list[int] = []
    monkeypatch.setattr(dispute_tasks.claim_image_analyze_task, "delay", sent.append)
    monkeypatch.setattr(sweeper, "work_in_hand", lambda **kw: set())
    settings.PROCESSING_GRACE_SECONDS = 120
    assert sweeper.stuck_work_requeue()["claim photos"] == 0 and sent == []
    settings.PROCESSING_GRACE_SECONDS = 20
    assert sweeper.stuck_work_requeue()["claim photos"] == 1 and sent == [photo.pk]


def test_the_workers_cannot_be_asked_when_the_broker_is_down(settings):
    from config.celery import app
    from core.sweeper import work_in_hand

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    try:
        assert work_in_hand(timeout=1) is None
    finally:
        app.conf.broker_url = old
