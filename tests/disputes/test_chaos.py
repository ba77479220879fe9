"""Chaos with real processes: a worker killed with SIGKILL in the middle of 100 claim
photos loses none and analyses none twice, once restarted and swept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from disputes.models import AuditEvent, ClaimImage, Finding
from disputes.stuck_work import stuck_work_requeue
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
    # The photo in hand when the worker died stays "processing" (its task is unacked in
    # Redis until the visibility timeout); the beat sweeper sends such work again.
    assert wait_for(
        lambda: (
            ClaimImage.objects.exclude(analysis_status=ClaimImage.Status.ANALYSED)
            .exclude(analysis_status=ClaimImage.Status.PROCESSING)
            .count()
            == 0
        ),
        timeout=240,
    ), "queued photos were lost"
    stuck_work_requeue(older_than=timedelta(0), processing_after=timedelta(0))
    assert wait_for(lambda: analysed.count() == PHOTOS, timeout=120), "a photo was never analysed"
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
