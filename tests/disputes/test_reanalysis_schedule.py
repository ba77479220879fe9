"""New evidence re-analyses a merchant's claims in one debounced pass
(``disputes.reanalysis_schedule``), through the real engine, eager Celery and the database.
The same with a real worker and Redis: ``test_reanalysis_worker.py``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery.signals import task_prerun
from django.db.models.signals import post_save
from django.test import TestCase
from django.utils import timezone

from core.models import AuditEvent
from core.sweeper import stuck_work_requeue
from disputes.models import ClaimImage, Dispute, PendingEvidence, ReanalysisSchedule
from disputes.reanalysis_schedule import evidence_arrived, reanalysis_run
from disputes.tasks import merchant_reanalyse_task
from evidence import services as evidence_services
from tests.disputes.fixtures import (
    doctored,
    jpeg_bytes,
    open_dispute,
    product_shot,
    reference_photo,
    sample,
)
from tests.disputes.test_services import analyse_all, analysed_events
from tests.factories import MembershipFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks_run() -> Iterator[Counter[str]]:
    """How many times each Celery task ran (Celery's own ``task_prerun`` signal)."""
    runs: Counter[str] = Counter()

    def count(sender, **kwargs):  # type: ignore[no-untyped-def]
        runs[sender.name] += 1

    task_prerun.connect(count, weak=False)
    yield runs
    task_prerun.disconnect(count)


@pytest.fixture
def claims():
    """A merchant without evidence yet and one dispute whose three photos were analysed:
    a doctored copy of the coffee photo, the astronaut photo re-saved, and a rocket."""
    merchant = MembershipFactory().merchant
    doctored_coffee, _ = doctored(sample("coffee"))
    dispute = open_dispute(
        merchant,
        [
            (jpeg_bytes(doctored_coffee), "broken.jpg"),
            (jpeg_bytes(sample("astronaut"), 80), "poster.jpg"),
            (jpeg_bytes(sample("rocket")), "rocket.jpg"),
        ],
    )
    images = analyse_all(dispute)
    assert [i.risk_level for i in images] == ["low", "low", "low"]  # nothing to match yet
    return merchant, dispute, images


def reanalyse_events() -> list[dict]:
    return list(
        AuditEvent.objects.filter(action="disputes.reanalyse")
        .order_by("id")
        .values_list("data", flat=True)
    )


def test_a_burst_of_photos_sends_one_task_and_analyses_each_affected_claim_once(claims, tasks_run):
    merchant, dispute, (coffee_claim, astronaut_claim, rocket_claim) = claims
    product = ProductFactory(merchant=merchant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        photos = [
            reference_photo(product, sample("coffee"), "mug.jpg"),
            *(reference_photo(product, product_shot(seed), f"s{seed}.jpg") for seed in range(8)),
            reference_photo(product, sample("astronaut"), "poster.jpg"),
        ]
        # Ten photos made ready: one schedule row, ten pending, nothing run yet.
        assert ReanalysisSchedule.objects.filter(merchant=merchant).count() == 1
        assert PendingEvidence.objects.filter(merchant=merchant).count() == len(photos)
        assert tasks_run["disputes.merchant_reanalyse"] == 0
    assert tasks_run["disputes.merchant_reanalyse"] == 1
    (event,) = reanalyse_events()
    assert event["claim_images"] == 2
    assert event["after"] == ", ".join(f"photo:{p.pk}" for p in photos)
    # The two claims the photos could change, analysed once each; the rocket left alone.
    assert tasks_run["disputes.claim_image_analyze"] == 2
    for image in (coffee_claim, astronaut_claim):
        image.refresh_from_db()
        assert image.findings.filter(code="derived_from_original").exists()
    rocket_before = rocket_claim.processed_at
    rocket_claim.refresh_from_db()
    assert rocket_claim.processed_at == rocket_before
    assert Counter(e["claim_image"] for e in analysed_events(dispute)) == {
        coffee_claim.pk: 2,
        astronaut_claim.pk: 2,
        rocket_claim.pk: 1,
    }
    assert not ReanalysisSchedule.objects.exists() and not PendingEvidence.objects.exists()


def test_evidence_arriving_while_a_pass_runs_gets_a_pass_of_its_own(claims, tasks_run):
    merchant, dispute, (coffee_claim, astronaut_claim, _rocket) = claims
    product = ProductFactory(merchant=merchant)
    during: list[tuple[str, int]] = []

    def upload_during_the_pass(sender, instance, created, **kwargs):  # type: ignore[no-untyped-def]
        # The pass has taken its evidence and queues its claims (the audit event says
        # so): the coffee photo is fingerprinted now, with the schedule row running.
        if instance.action == "disputes.reanalyse" and not during:
            during.append(("running", ReanalysisSchedule.objects.get(merchant=merchant).status))
            photo = reference_photo(product, sample("coffee"), "mug.jpg")
            during.append(("photo", photo.pk))

    post_save.connect(upload_during_the_pass, sender=AuditEvent, weak=False)
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            first = reference_photo(product, sample("astronaut"), "poster.jpg")
    finally:
        post_save.disconnect(upload_during_the_pass, sender=AuditEvent)
    assert during[0] == ("running", ReanalysisSchedule.Status.RUNNING)
    # The photo that arrived during the first pass was not lost: a second pass took it.
    assert [e["after"] for e in reanalyse_events()] == [
        f"photo:{first.pk}",
        f"photo:{during[1][1]}",
    ]
    assert tasks_run["disputes.merchant_reanalyse"] == 2
    assert tasks_run["disputes.claim_image_analyze"] == 2
    for image in (astronaut_claim, coffee_claim):
        image.refresh_from_db()
        assert image.findings.filter(code="derived_from_original").exists()
    assert not ReanalysisSchedule.objects.exists() and not PendingEvidence.objects.exists()
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.NEEDS_REVIEW


def test_only_the_first_evidence_of_a_burst_schedules_a_task(membership):
    product = ProductFactory(merchant=membership.merchant)
    photos = [reference_photo(product, product_shot(seed), f"s{seed}.jpg") for seed in range(3)]
    PendingEvidence.objects.all().delete()
    ReanalysisSchedule.objects.all().delete()
    with TestCase.captureOnCommitCallbacks() as sent:
        scheduled = [
            evidence_arrived(merchant_id=membership.merchant_id, reference_photo_id=p.pk)
            for p in photos
        ]
        # The same photo again (fingerprinted anew): still one pending row for it.
        evidence_arrived(merchant_id=membership.merchant_id, reference_photo_id=photos[0].pk)
    assert scheduled == [True, False, False]
    assert len(sent) == 1
    assert PendingEvidence.objects.count() == 3
    with pytest.raises(ValueError, match="exactly one"):
        evidence_arrived(merchant_id=membership.merchant_id)


def test_a_pass_waits_while_the_merchants_evidence_is_still_processed(claims, settings, media_root):
    from django.core.files.base import ContentFile

    settings.REANALYSE_DELAY_SECONDS = 10
    settings.REANALYSE_MAX_WAIT_SECONDS = 120
    merchant, _dispute, (_coffee, astronaut_claim, _rocket) = claims
    product = ProductFactory(merchant=merchant)
    reference_photo(product, sample("astronaut"), "poster.jpg")
    schedule = ReanalysisSchedule.objects.get(merchant=merchant)

    def run() -> tuple[int, int]:
        """(claim photos queued, tasks sent again for later)."""
        with TestCase.captureOnCommitCallbacks() as sent:
            queued = reanalysis_run(merchant_id=merchant.pk)
        return queued, len(sent)

    # Sent with a countdown and come early: sent again for the rest of the delay.
    assert run() == (0, 1)
    # Past the delay, but another photo still waits for its fingerprint: later again.
    evidence_services.photo_ingest(
        product=product,
        upload=ContentFile(jpeg_bytes(product_shot(1)), name="next.jpg"),
        filename="next.jpg",
        uploader=None,
    )
    opened = timezone.now() - timedelta(seconds=11)
    ReanalysisSchedule.objects.filter(pk=schedule.pk).update(opened_at=opened)
    assert run() == (0, 1)
    assert ReanalysisSchedule.objects.get(pk=schedule.pk).status == "scheduled"
    # Never past the longest wait: the pass runs with what it has.
    opened = timezone.now() - timedelta(seconds=121)
    ReanalysisSchedule.objects.filter(pk=schedule.pk).update(opened_at=opened)
    assert run()[0] == 1  # the astronaut claim queued
    assert not ReanalysisSchedule.objects.exists() and not PendingEvidence.objects.exists()
    assert ClaimImage.objects.get(pk=astronaut_claim.pk).analysis_status == "pending"


def test_the_sweeper_sends_a_lost_reanalysis_again(claims, tasks_run):
    merchant, _dispute, (_coffee, astronaut_claim, _rocket) = claims
    product = ProductFactory(merchant=merchant)
    reference_photo(product, sample("astronaut"), "poster.jpg")  # its task never sent
    assert stuck_work_requeue()["re-analyses after new evidence"] == 0  # not late yet
    late = timezone.now() - timedelta(minutes=11)
    ReanalysisSchedule.objects.filter(merchant=merchant).update(status_since=late)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert stuck_work_requeue()["re-analyses after new evidence"] == 1
    assert tasks_run["disputes.merchant_reanalyse"] == 1
    astronaut_claim.refresh_from_db()
    assert astronaut_claim.findings.filter(code="derived_from_original").exists()
    assert not ReanalysisSchedule.objects.exists()


def test_a_per_file_task_of_an_earlier_release_joins_the_pending_evidence(claims, tasks_run):
    merchant, _dispute, (_coffee, astronaut_claim, _rocket) = claims
    photo = reference_photo(ProductFactory(merchant=merchant), sample("astronaut"))
    PendingEvidence.objects.all().delete()
    ReanalysisSchedule.objects.all().delete()
    with TestCase.captureOnCommitCallbacks(execute=True):
        merchant_reanalyse_task.apply_async(
            args=[merchant.pk], kwargs={"reference_photo_id": photo.pk}
        )
    assert tasks_run["disputes.merchant_reanalyse"] == 2  # the old message, then the pass
    assert [e["after"] for e in reanalyse_events()] == [f"photo:{photo.pk}"]
    astronaut_claim.refresh_from_db()
    assert astronaut_claim.findings.filter(code="derived_from_original").exists()
