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
    sent: list[int] = []
    monkeypatch.setattr(dispute_tasks.claim_image_analyze_task, "delay", sent.append)
    counts = stuck_work_requeue(older_than=timedelta(minutes=10))
    assert sent == [old.pk]  # not the one a worker may still be on, nor the fresh one
    assert counts["claim photos"] == 1
    # Long past the task time limit, a photo stuck in processing is sent again too.
    ClaimImage.objects.filter(pk=running.pk).update(uploaded_at=hour_ago)
    sent.clear()
    stuck_work_requeue(older_than=timedelta(minutes=10))
    assert sorted(sent) == sorted([old.pk, running.pk])
    assert fresh.pk not in sent
