"""Claim analysis through a real Celery worker process and a real Redis."""

from __future__ import annotations

import pytest

from disputes.models import ClaimImage, Dispute
from tests.conftest import wait_for
from tests.disputes.fixtures import doctored, jpeg_bytes, open_dispute, reference_photo, sample
from tests.factories import MembershipFactory, ProductFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_flags_a_doctored_claim_and_clears_an_unrelated_one(celery_worker_process):
    merchant = MembershipFactory().merchant
    product = ProductFactory(merchant=merchant)
    reference_photo(product, sample("coffee"), "mug-front.jpg")
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(
        merchant,
        [(jpeg_bytes(claim), "broken.jpg"), (jpeg_bytes(sample("astronaut")), "other.jpg")],
    )

    def reviewed() -> bool:
        return Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.NEEDS_REVIEW

    assert wait_for(reviewed, timeout=90), "the worker did not finish the analysis"
    doctored_image, other = ClaimImage.objects.filter(dispute=dispute).order_by("id")
    assert doctored_image.risk_level == "high" and doctored_image.region
    assert other.risk_level == "low"
    dispute.refresh_from_db()
    assert dispute.risk_level == "high"
