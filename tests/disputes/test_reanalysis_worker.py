"""The debounced re-analysis after new evidence with a real Celery worker process and a
real Redis: a burst of photos gives one pass, and a worker killed while it holds the
pass's task loses nothing once the sweeper runs."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from core.models import AuditEvent
from core.sweeper import stuck_work_requeue
from disputes.models import ClaimImage, Dispute, PendingEvidence, ReanalysisSchedule
from evidence import services as evidence_services
from evidence.models import ReferencePhoto
from tests.conftest import WorkerProcess, wait_for
from tests.disputes.fixtures import doctored, jpeg_bytes, open_dispute, product_shot, sample
from tests.factories import MembershipFactory, ProductFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BURST = 40


def received(worker: WorkerProcess, task: str) -> int:
    """How many messages of ``task`` the worker received (its log says each one)."""
    pattern = re.compile(rf"Task {re.escape(task)}\[[0-9a-f-]+\] received")
    return len(pattern.findall(worker.log.read_text(errors="replace")))


def analysed_claims(merchant):  # type: ignore[no-untyped-def]
    """The merchant's open dispute, once every claim photo of it is analysed."""
    dispute = Dispute.objects.get(merchant=merchant)
    done = dispute.status == Dispute.Status.NEEDS_REVIEW and not dispute.claim_images.exclude(
        analysis_status=ClaimImage.Status.ANALYSED
    )
    return dispute if done else None


def settled(merchant) -> bool:  # type: ignore[no-untyped-def]
    """No evidence of the merchant waiting and no pass or claim analysis left to do."""
    return (
        not ReferencePhoto.objects.filter(merchant=merchant)
        .exclude(status=ReferencePhoto.Status.FINGERPRINTED)
        .exists()
        and not ReanalysisSchedule.objects.filter(merchant=merchant).exists()
        and not PendingEvidence.objects.filter(merchant=merchant).exists()
        and analysed_claims(merchant) is not None
    )


def claims_of(merchant):  # type: ignore[no-untyped-def]
    """A dispute with a doctored copy of the coffee photo, the astronaut photo re-saved
    and a rocket, analysed by the worker while the merchant has no evidence."""
    doctored_coffee, _ = doctored(sample("coffee"))
    open_dispute(
        merchant,
        [
            (jpeg_bytes(doctored_coffee), "broken.jpg"),
            (jpeg_bytes(sample("astronaut"), 80), "poster.jpg"),
            (jpeg_bytes(sample("rocket")), "rocket.jpg"),
        ],
    )
    assert wait_for(lambda: analysed_claims(merchant) is not None, timeout=120)
    images = list(ClaimImage.objects.filter(merchant=merchant).order_by("id"))
    assert [i.risk_level for i in images] == ["low", "low", "low"]
    return images


def test_a_burst_of_photos_gives_one_pass_and_one_analysis_per_affected_claim(worker):
    merchant = MembershipFactory().merchant
    coffee_claim, astronaut_claim, rocket_claim = claims_of(merchant)
    product = ProductFactory(merchant=merchant)
    files = [
        (jpeg_bytes(sample("coffee")), "mug.jpg"),
        *((jpeg_bytes(product_shot(seed)), f"shot-{seed}.jpg") for seed in range(BURST - 2)),
        (jpeg_bytes(sample("astronaut")), "poster.jpg"),
    ]
    # One upload of 40 photos: their fingerprint tasks reach the worker as it commits.
    with transaction.atomic():
        for data, name in files:
            evidence_services.photo_ingest(
                product=product, upload=ContentFile(data, name=name), filename=name, uploader=None
            )
    assert wait_for(lambda: settled(merchant), timeout=240, interval=0.5)

    events = AuditEvent.objects.filter(merchant=merchant, action="disputes.reanalyse")
    (event,) = events.values_list("data", flat=True)  # one pass for the whole upload
    assert event["claim_images"] == 2
    assert len(event["after"].split(", ")) == BURST
    per_claim = Counter(
        data["claim_image"]
        for data in AuditEvent.objects.filter(
            merchant=merchant, action="claim_image.analysed"
        ).values_list("data", flat=True)
    )
    assert per_claim == {coffee_claim.pk: 2, astronaut_claim.pk: 2, rocket_claim.pk: 1}
    # Three first analyses, then the two claims the photos could change, once each.
    assert received(worker, "disputes.claim_image_analyze") == 3 + 2
    for image in (coffee_claim, astronaut_claim):
        image.refresh_from_db()
        assert image.findings.filter(code="derived_from_original").exists()
    # One task scheduled the pass; it is sent again only while photos are still being
    # fingerprinted (about one per REANALYSE_DELAY_SECONDS), never once per photo.
    tasks = received(worker, "disputes.merchant_reanalyse")
    assert 1 <= tasks < BURST // 4, tasks
    print(f"{BURST} photos: {tasks} re-analysis task message(s), 1 pass, 2 claims re-analysed")


def test_a_pass_held_by_a_killed_worker_is_sent_again_by_the_sweeper(worker):
    merchant = MembershipFactory().merchant
    _coffee, astronaut_claim, _rocket = claims_of(merchant)
    evidence_services.photo_ingest(
        product=ProductFactory(merchant=merchant),
        upload=ContentFile(jpeg_bytes(sample("astronaut")), name="poster.jpg"),
        filename="poster.jpg",
        uploader=None,
    )
    # The worker fingerprints the photo and takes the pass's task, due seconds later.
    schedule = ReanalysisSchedule.objects.filter(merchant=merchant)
    assert wait_for(
        lambda: schedule.exists() and received(worker, "disputes.merchant_reanalyse") == 1,
        timeout=60,
    )
    worker.kill()  # SIGKILL: the task stays unacknowledged in Redis for an hour
    worker.start()
    assert schedule.get().status == ReanalysisSchedule.Status.SCHEDULED
    assert not AuditEvent.objects.filter(merchant=merchant, action="disputes.reanalyse").exists()
    # What beat does (10 minutes late in production): the row says what is owed.
    assert stuck_work_requeue(older_than=timedelta(0))["re-analyses after new evidence"] == 1
    assert wait_for(lambda: settled(merchant), timeout=120, interval=0.5)
    astronaut_claim.refresh_from_db()
    assert astronaut_claim.findings.filter(code="derived_from_original").exists()
    assert AuditEvent.objects.filter(merchant=merchant, action="disputes.reanalyse").count() == 1
