"""Dispute pages: opening with photos, the verdict page, decisions, scoping."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from disputes import services
from disputes.models import ClaimImage, Dispute
from forensics.same_photo import NEAR_COPY_THRESHOLD
from tests.disputes.fixtures import doctored, jpeg_bytes, open_dispute, reference_photo, sample
from tests.factories import MembershipFactory, ProductFactory, ReviewerFactory


@pytest.fixture
def analysed_dispute(membership):
    product = ProductFactory(merchant=membership.merchant)
    reference_photo(product, sample("coffee"), "mug-front.jpg")
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(membership.merchant, [(jpeg_bytes(claim), "broken.jpg")])
    for image in dispute.claim_images.all():
        services.claim_image_analyze(claim_image_id=image.pk)
    return dispute


def urls_of(dispute: Dispute) -> list[str]:
    image = dispute.claim_images.first()
    return [
        reverse("disputes:detail", args=[dispute.pk]),
        reverse("disputes:claim_file", args=[image.pk]),
        reverse("disputes:claim_derived", args=[image.pk, "heatmap"]),
        reverse("disputes:claim_derived", args=[image.pk, "thumbnail"]),
    ]


@pytest.mark.django_db
def test_open_dispute_form_with_photos(client, membership):
    client.force_login(membership.user)
    response = client.post(
        reverse("disputes:create"),
        {
            "platform": "jd",
            "external_id": "JD-778",
            "order_ref": "ORD-5",
            "buyer_ref": "jd_buyer",
            "claim_type": "refund_only",
            "reason": "Cup arrived broken",
            "amount": "59.90",
            "currency": "cny",
            "respond_by": "2026-12-01T12:00",
            "photos": [
                SimpleUploadedFile("one.jpg", jpeg_bytes(sample("coffee"))),
                SimpleUploadedFile("two.jpg", jpeg_bytes(sample("rocket"))),
            ],
        },
    )
    dispute = Dispute.objects.get(external_id="JD-778")
    assert response.status_code == 302
    assert response["Location"] == reverse("disputes:detail", args=[dispute.pk])
    assert dispute.currency == "CNY" and dispute.claim_images.count() == 2


@pytest.mark.django_db
def test_open_dispute_with_a_bad_photo_shows_form_error_and_creates_nothing(client, membership):
    client.force_login(membership.user)
    response = client.post(
        reverse("disputes:create"),
        {
            "platform": "taobao",
            "external_id": "TB-1",
            "order_ref": "O",
            "claim_type": "refund_only",
            "amount": "10",
            "currency": "CNY",
            "respond_by": "2026-12-01T12:00",
            "photos": [SimpleUploadedFile("fake.jpg", b"GIF89a not really")],
        },
    )
    assert response.status_code == 400
    assert "fake.jpg" in response.content.decode()
    assert Dispute.objects.count() == 0


@pytest.mark.django_db
def test_dispute_page_shows_verdict_region_and_original(client, membership, analysed_dispute):
    client.force_login(membership.user)
    html = client.get(reverse("disputes:detail", args=[analysed_dispute.pk])).content.decode()
    assert "risk-high" in html
    assert "mug-front.jpg" in html
    assert 'class="region"' in html and 'class="heatmap"' in html
    assert "Dispute opened" in html  # the audit trail


def live_part(page: str, part_id: str) -> str:
    """The element with ``id=part_id`` the page's script swaps in (up to its closing tag)."""
    start = page.index(f'id="{part_id}"')
    tag = page.rfind("<", 0, start)
    name = page[tag + 1 : page.index(" ", tag)]
    return page[tag : page.index(f"</{name}>", start) + len(name) + 3]


@pytest.mark.django_db
def test_the_polled_fragment_carries_the_risk_chip_and_the_audit_trail(client, membership):
    from core.models import AuditEvent

    product = ProductFactory(merchant=membership.merchant)
    reference_photo(product, sample("coffee"), "mug-front.jpg")
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(membership.merchant, [(jpeg_bytes(claim), "broken.jpg")])
    client.force_login(membership.user)
    url = reverse("disputes:detail", args=[dispute.pk])
    page = client.get(url).content.decode()
    # While analysing: the page polls, the chip is there but empty, the trail has the opening.
    assert "?fragment=1" in live_part(page, "claim-images")
    assert "risk-" not in live_part(page, "dispute-risk")
    assert "Photo analysed" not in live_part(page, "audit-trail")
    viewed = AuditEvent.objects.filter(action="dispute.viewed").count()

    for image in dispute.claim_images.all():
        services.claim_image_analyze(claim_image_id=image.pk)
    fragment = client.get(url, {"fragment": "1"}).content.decode()
    chip = live_part(fragment, "dispute-risk")
    assert "data-live" in chip and 'class="risk risk-high"' in chip and "High risk" in chip
    trail = live_part(fragment, "audit-trail")
    assert "data-live" in trail and "Dispute opened" in trail and "Photo analysed" in trail
    assert "data-refresh" not in live_part(fragment, "claim-images")  # polling stops
    # The same parts as a reload draws them; polling is not a view of the dispute.
    page = client.get(url).content.decode()
    assert live_part(page, "dispute-risk") == chip
    assert live_part(page, "audit-trail").replace("Dispute viewed", "") == trail
    assert AuditEvent.objects.filter(action="dispute.viewed").count() == viewed + 1


@pytest.mark.django_db
def test_other_merchant_gets_404_everywhere(client, analysed_dispute):
    client.force_login(MembershipFactory().user)
    for url in urls_of(analysed_dispute):
        assert client.get(url).status_code == 404, url
    image = analysed_dispute.claim_images.first()
    for url in [
        reverse("disputes:decide", args=[analysed_dispute.pk]),
        reverse("disputes:photos_add", args=[analysed_dispute.pk]),
        reverse("disputes:claim_retry", args=[image.pk]),
    ]:
        assert client.post(url, {"outcome": "refund_approved"}).status_code == 404, url
    analysed_dispute.refresh_from_db()
    assert analysed_dispute.status == Dispute.Status.NEEDS_REVIEW


@pytest.mark.django_db
def test_reviewer_decides_from_the_page(client, analysed_dispute):
    client.force_login(ReviewerFactory().user)
    url = reverse("disputes:decide", args=[analysed_dispute.pk])
    analysed_dispute.refresh_from_db()
    version = analysed_dispute.version
    response = client.post(url, {"action": "reject", "note": "", "version": version})
    assert response.status_code == 400
    assert "Say why the claim is rejected." in response.content.decode()
    analysed_dispute.refresh_from_db()
    assert analysed_dispute.status == Dispute.Status.NEEDS_REVIEW
    response = client.post(
        url, {"action": "reject", "note": "Our listing photo with paint.", "version": version}
    )
    assert response.status_code == 302
    analysed_dispute.refresh_from_db()
    assert analysed_dispute.status == Dispute.Status.CLAIM_REJECTED


@pytest.mark.django_db
def test_list_search_and_filter(client, membership, analysed_dispute):
    client.force_login(membership.user)
    html = client.get(reverse("disputes:list"), {"q": "ORDER-1"}).content.decode()
    assert analysed_dispute.external_id in html
    html = client.get(reverse("disputes:list"), {"status": "claim_rejected"}).content.decode()
    assert analysed_dispute.external_id not in html


@pytest.mark.django_db
def test_search_finds_a_buyer_however_typed_and_a_dispute_by_number(client, membership):
    from tests.disputes.factories import DisputeFactory

    wide = DisputeFactory(
        merchant=membership.merchant, buyer_ref="ＴＢ_Buyer 88", external_id="TB-WIDE"
    )
    DisputeFactory(
        merchant=membership.merchant, buyer_ref="someone", external_id="TB-ELSE", order_ref="NA"
    )
    client.force_login(membership.user)

    by_buyer = client.get(reverse("disputes:list"), {"q": "tb_buyer88"}).content.decode()
    by_number = client.get(reverse("disputes:list"), {"q": str(wide.pk)}).content.decode()
    huge = client.get(reverse("disputes:list"), {"q": "9" * 30})

    assert "TB-WIDE" in by_buyer and "TB-ELSE" not in by_buyer
    assert "TB-WIDE" in by_number and "TB-ELSE" not in by_number
    assert huge.status_code == 200


@pytest.mark.django_db
def test_list_counts_down_only_for_disputes_still_open(client, membership):
    from datetime import timedelta

    from django.utils import timezone

    from tests.disputes.factories import DisputeFactory

    past = timezone.now() - timedelta(days=2)
    DisputeFactory(merchant=membership.merchant, external_id="OPEN-LATE", respond_by=past)
    DisputeFactory(
        merchant=membership.merchant,
        external_id="CLOSED-LATE",
        respond_by=past,
        status=Dispute.Status.REFUND_APPROVED,
    )
    client.force_login(membership.user)
    html = client.get(reverse("disputes:list")).content.decode()
    rows = html.split("<tr")[1:]
    (late,) = [row for row in rows if "OPEN-LATE" in row]
    (closed,) = [row for row in rows if "CLOSED-LATE" in row]
    assert "overdue" in late and "overdue" not in closed


@pytest.mark.django_db
def test_retry_requeues_a_failed_photo(client, membership, analysed_dispute):
    image = analysed_dispute.claim_images.first()
    services.claim_image_mark_failed(claim_image_id=image.pk, reason="storage hiccup")
    client.force_login(membership.user)
    client.post(reverse("disputes:claim_retry", args=[image.pk]))
    image.refresh_from_db()
    # Celery is eager in unit tests, but the task is sent on commit: the row is pending.
    assert image.analysis_status in (ClaimImage.Status.PENDING, ClaimImage.Status.ANALYSED)


@pytest.mark.django_db
def test_findings_read_in_chinese(client, membership, analysed_dispute):
    client.force_login(membership.user)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(reverse("disputes:detail", args=[analysed_dispute.pk])).content.decode()
    assert "这是您的照片" in html and "裁剪" in html
    assert "This is your photo" not in html


@pytest.mark.django_db
def test_a_near_copy_shows_the_original_beside_it_in_both_languages(
    client, membership, near_copy_engine
):
    product = ProductFactory(merchant=membership.merchant, sku="MUG-1")
    reference_photo(product, sample("coffee"), "mug-front.jpg")
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(membership.merchant, [(jpeg_bytes(claim), "broken.jpg")])
    (image,) = dispute.claim_images.all()
    services.claim_image_analyze(claim_image_id=image.pk)
    client.force_login(membership.user)
    url = reverse("disputes:detail", args=[dispute.pk])

    html = client.get(url).content.decode()
    assert "Possibly your photo MUG-1 / mug-front.jpg" in html
    aligned = reverse("disputes:claim_derived", args=[image.pk, "aligned"])
    assert aligned in html
    assert f"Same-photograph score {NEAR_COPY_THRESHOLD:.3f}" in html
    assert client.get(aligned).status_code == 200

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(url).content.decode()
    assert "可能是您的照片 MUG-1 / mug-front.jpg" in html and f"{NEAR_COPY_THRESHOLD:.2f}" in html
    assert "Possibly your photo" not in html


@pytest.mark.django_db
def test_a_photo_chosen_twice_or_already_attached_is_kept_once_and_the_user_told(
    client, membership
):
    client.force_login(membership.user)
    photo = jpeg_bytes(sample("coffee"))
    response = client.post(
        reverse("disputes:create"),
        {
            "platform": "jd",
            "external_id": "JD-779",
            "order_ref": "ORD-6",
            "claim_type": "refund_only",
            "reason": "Cup arrived broken",
            "amount": "59.90",
            "currency": "CNY",
            "respond_by": "2030-12-01T12:00",
            "photos": [SimpleUploadedFile(f"{n}.jpg", photo) for n in range(3)],
        },
        follow=True,
    )
    dispute = Dispute.objects.get(external_id="JD-779")
    assert dispute.claim_images.count() == 1
    assert "2 photos were chosen more than once; each is kept once." in response.content.decode()

    again = client.post(
        reverse("disputes:photos_add", args=[dispute.pk]),
        {"photos": [SimpleUploadedFile("again.jpg", photo)]},
        follow=True,
    ).content.decode()
    assert "1 photo was already attached to this dispute, so it was not added again." in again
    assert "0 photo" not in again


def claim_photos_text(client, dispute: Dispute, **params: str) -> str:
    """The claim-photo cards of the dispute page, as text (entities decoded)."""
    page = client.get(reverse("disputes:detail", args=[dispute.pk]), params).content.decode()
    start = page.index('id="claim-images"')
    end = page.find("</section>", start)
    return html.unescape(page[start : end if end != -1 else len(page)])


SPEAKS_TO_READER = re.compile(r"\byour\b|您的|你的", re.IGNORECASE)


@pytest.mark.django_db
def test_the_merchant_reads_your_photo_and_a_reviewer_the_merchants_photo(
    client, membership, analysed_dispute
):
    client.force_login(membership.user)
    mine = claim_photos_text(client, analysed_dispute)
    assert "This is your photo" in mine and "Your original" in mine
    assert "the merchant's photo" not in mine

    client.force_login(ReviewerFactory().user)
    for params in ({}, {"fragment": "1"}):
        theirs = claim_photos_text(client, analysed_dispute, **params)
        assert "This is the merchant's photo" in theirs, theirs
        assert "The merchant's original" in theirs
        assert not SPEAKS_TO_READER.search(theirs), SPEAKS_TO_READER.search(theirs)

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    chinese = claim_photos_text(client, analysed_dispute)
    assert "这是商家的照片" in chinese
    assert not SPEAKS_TO_READER.search(chinese), SPEAKS_TO_READER.search(chinese)

    # A reviewer who is also one of the merchant's people reads it as the merchant.
    ReviewerFactory(user=membership.user)
    client.force_login(membership.user)
    assert "这是您的照片" in claim_photos_text(client, analysed_dispute)
