"""Every service that writes checks the actor's role, whatever the view does: support
reviewers read a merchant's disputes and decide them, but never add evidence or claim
photos, open disputes or re-run analyses; nobody writes for a merchant they do not act
for. Refused writes change nothing (403 on the pages)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from api import services as api_services
from api.models import ChunkedUpload
from core.models import AuditEvent
from disputes import services as dispute_services
from disputes.models import ClaimImage, Dispute
from evidence import services as evidence_services
from evidence.models import PackingVideo, Product, ReferencePhoto
from tests.conftest import stored_names
from tests.disputes.factories import scored_dispute
from tests.disputes.fixtures import jpeg_bytes, sample
from tests.factories import MembershipFactory, ProductFactory, ReviewerFactory


@pytest.fixture
def shop(db) -> SimpleNamespace:
    owner = MembershipFactory()
    dispute = scored_dispute("high", merchant=owner.merchant)
    ClaimImage.objects.filter(pk=dispute.top_claim_image_id).update(
        analysis_status=ClaimImage.Status.FAILED
    )
    return SimpleNamespace(
        owner=owner.user,
        merchant=owner.merchant,
        product=ProductFactory(merchant=owner.merchant),
        dispute=dispute,
        claim_image=ClaimImage.objects.get(pk=dispute.top_claim_image_id),
    )


OUTSIDERS: dict[str, Callable[[SimpleNamespace], Any]] = {
    "reviewer of the merchant": lambda shop: ReviewerFactory(merchants=[shop.merchant]).user,
    "reviewer of every merchant": lambda shop: ReviewerFactory().user,
    "another merchant's owner": lambda shop: MembershipFactory().user,
    "anonymous": lambda shop: AnonymousUser(),
}


def _photo() -> ContentFile[bytes]:
    return ContentFile(jpeg_bytes(sample("coffee")), name="p.jpg")


WRITERS: dict[str, Callable[[SimpleNamespace, Any], Any]] = {
    "product_create": lambda shop, actor: evidence_services.product_create(
        merchant=shop.merchant, actor=actor, sku="NEW-1", title="New"
    ),
    "product_get_or_create": lambda shop, actor: evidence_services.product_get_or_create(
        merchant=shop.merchant, actor=actor, sku="NEW-2"
    ),
    "photo_ingest": lambda shop, actor: evidence_services.photo_ingest(
        product=shop.product, upload=_photo(), filename="p.jpg", uploader=actor
    ),
    "video_ingest": lambda shop, actor: evidence_services.video_ingest(
        merchant=shop.merchant,
        order_ref="O-1",
        upload=ContentFile(b"\x00" * 64, name="v.mp4"),
        filename="v.mp4",
        uploader=actor,
    ),
    "dispute_open": lambda shop, actor: dispute_services.dispute_open(
        merchant=shop.merchant,
        actor=actor,
        platform="taobao",
        external_id="TB-NEW",
        order_ref="O-1",
        buyer_ref="",
        product=None,
        claim_type="refund_only",
        reason="",
        amount=Decimal("1.00"),
        currency="CNY",
        respond_by=timezone.now() + timedelta(days=1),
        photos=[(_photo(), "p.jpg")],
    ),
    "claim_images_add": lambda shop, actor: dispute_services.claim_images_add(
        dispute=shop.dispute, actor=actor, photos=[(_photo(), "p.jpg")]
    ),
    "claim_image_requeue": lambda shop, actor: dispute_services.claim_image_requeue(
        claim_image=shop.claim_image, actor=actor
    ),
    "dispute_reanalyse": lambda shop, actor: dispute_services.dispute_reanalyse(
        merchant=shop.merchant, actor=actor
    ),
    "upload_start": lambda shop, actor: api_services.upload_start(
        merchant=shop.merchant, actor=actor, filename="v.mp4", size=10
    ),
}


def _everything(shop: SimpleNamespace) -> tuple[Any, ...]:
    """What a refused write must leave as it was."""
    return (
        AuditEvent.objects.count(),
        Product.objects.count(),
        ReferencePhoto.objects.count(),
        PackingVideo.objects.count(),
        Dispute.objects.count(),
        list(ClaimImage.objects.values_list("pk", "analysis_status").order_by("pk")),
        Dispute.objects.get(pk=shop.dispute.pk).version,
        ChunkedUpload.objects.count(),
    )


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("writer", WRITERS)
def test_only_the_merchants_own_people_write(shop, writer, outsider):
    actor = OUTSIDERS[outsider](shop)
    before = _everything(shop)
    with pytest.raises(PermissionDenied):
        WRITERS[writer](shop, actor)
    assert _everything(shop) == before
    assert stored_names() == []  # no file stored either


@pytest.mark.django_db
def test_the_owner_writes_what_outsiders_may_not(shop):
    product = WRITERS["product_create"](shop, shop.owner)
    assert product.merchant == shop.merchant
    photo = WRITERS["photo_ingest"](shop, shop.owner).obj
    assert photo.uploaded_by == shop.owner
    dispute = WRITERS["dispute_open"](shop, shop.owner)
    assert dispute.created_by == shop.owner
    upload = WRITERS["upload_start"](shop, shop.owner)
    appended = api_services.upload_append(
        upload=upload, actor=shop.owner, offset=0, stream=ContentFile(b"abc"), length=3
    )
    assert appended == 3


@pytest.mark.django_db
def test_only_the_merchants_own_people_send_upload_bytes(shop):
    upload = api_services.upload_start(
        merchant=shop.merchant, actor=shop.owner, filename="v.mp4", size=10
    )
    reviewer = ReviewerFactory(merchants=[shop.merchant]).user
    with pytest.raises(PermissionDenied):
        api_services.upload_append(
            upload=upload, actor=reviewer, offset=0, stream=ContentFile(b"abc"), length=3
        )
    upload.refresh_from_db()
    assert upload.offset == 0


@pytest.mark.django_db
def test_a_view_is_recorded_only_for_someone_who_may_read_the_dispute(shop):
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        dispute_services.dispute_viewed(dispute=shop.dispute, actor=MembershipFactory().user)
    with pytest.raises(PermissionDenied):
        dispute_services.dispute_viewed(
            dispute=shop.dispute, actor=ReviewerFactory(merchants=[ProductFactory().merchant]).user
        )
    assert AuditEvent.objects.count() == before
    dispute_services.dispute_viewed(
        dispute=shop.dispute, actor=ReviewerFactory(merchants=[shop.merchant]).user
    )
    assert AuditEvent.objects.count() == before + 1


@pytest.mark.django_db
def test_a_reviewer_neither_sees_nor_uses_the_merchants_buttons(client, shop):
    client.force_login(ReviewerFactory(merchants=[shop.merchant]).user)
    detail = reverse("disputes:detail", args=[shop.dispute.pk])
    page = client.get(detail).content.decode()
    add_url = reverse("disputes:photos_add", args=[shop.dispute.pk])
    retry_url = reverse("disputes:claim_retry", args=[shop.claim_image.pk])
    assert add_url not in page and retry_url not in page
    photo = ContentFile(jpeg_bytes(sample("coffee")), name="p.jpg")
    assert client.post(add_url, {"photos": [photo]}).status_code == 403
    assert client.post(retry_url).status_code == 403
    assert shop.dispute.claim_images.count() == 1
    assert ClaimImage.objects.get(pk=shop.claim_image.pk).analysis_status == "failed"


@pytest.mark.django_db
def test_the_merchant_sees_its_buttons(client, shop):
    client.force_login(shop.owner)
    page = client.get(reverse("disputes:detail", args=[shop.dispute.pk])).content.decode()
    assert reverse("disputes:photos_add", args=[shop.dispute.pk]) in page
    assert reverse("disputes:claim_retry", args=[shop.claim_image.pk]) in page
