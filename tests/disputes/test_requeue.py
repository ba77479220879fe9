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
