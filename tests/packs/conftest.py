"""A dispute worth exporting: a listing photo, a doctored claim and an honest one, a
Chinese reason, and the order's packing video — analysed (Celery runs eagerly)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from evidence import services as evidence_services
from tests.disputes.fixtures import doctored, jpeg_bytes, open_dispute, reference_photo, sample
from tests.evidence.test_services import mp4
from tests.factories import MembershipFactory, ProductFactory


@pytest.fixture
def exportable(transactional_db, media_root):  # type: ignore[no-untyped-def]
    owner = MembershipFactory(user__username="shop-owner")
    merchant = owner.merchant
    product = ProductFactory(merchant=merchant, sku="MUG-1", title="Coffee mug")
    reference_photo(product, sample("coffee"), name="mug-front.jpg")
    evidence_services.video_ingest(
        merchant=merchant,
        order_ref="ORDER-1",
        upload=ContentFile(mp4(seconds=6), name="ORDER-1.mp4"),
        filename="ORDER-1.mp4",
        uploader=owner.user,
    )
    claim, _box = doctored(sample("coffee"))
    dispute = open_dispute(
        merchant,
        [(jpeg_bytes(claim), "broken.jpg"), (jpeg_bytes(sample("astronaut")), "other.jpg")],
        external_id="TB-PACK-1",
        order_ref="ORDER-1",
        product=product,
        reason="杯子碎了，要求仅退款",
    )
    return owner, dispute
