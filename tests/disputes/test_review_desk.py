"""The review desk: the queue, roles, decisions with conflicts, notes, statements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from disputes import services
from disputes.models import Decision, Dispute, InternalNote
from evidence.models import ReferencePhoto
from tests.disputes.factories import DisputeFactory, scored_dispute
from tests.disputes.fixtures import jpeg_bytes, sample
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory, ReviewerFactory

QUEUE = reverse("disputes:queue")


def queue_ids(client, **params) -> list[str]:
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    return [d.external_id for d in response.context["page"].object_list]


@pytest.fixture
def reviewer(db):
    return ReviewerFactory().user


@pytest.mark.django_db
def test_queue_puts_highest_risk_first_then_nearest_deadline(client, reviewer):
    now = timezone.now()
    scored_dispute("low", external_id="LOW", respond_by=now + timedelta(hours=1))
    scored_dispute("high", external_id="HIGH-LATER", respond_by=now + timedelta(days=3))
    scored_dispute("high", external_id="HIGH-SOON", respond_by=now + timedelta(hours=5))
    scored_dispute("medium", external_id="MED", respond_by=now + timedelta(hours=2))
    DisputeFactory(external_id="UNSCORED", status=Dispute.Status.ANALYSING)
    DisputeFactory(external_id="DONE", status=Dispute.Status.CLAIM_REJECTED, risk_level="high")
    client.force_login(reviewer)
    assert queue_ids(client) == ["HIGH-SOON", "HIGH-LATER", "MED", "LOW", "UNSCORED"]


@pytest.mark.django_db
def test_queue_filters_search_and_survives_bad_values(client, reviewer):
    tmall = MerchantFactory(name="Tmall Shop")
    now = timezone.now()
    scored_dispute("high", external_id="A", merchant=tmall, platform="tmall")
    scored_dispute("low", external_id="B", platform="jd", respond_by=now - timedelta(hours=3))
    scored_dispute("medium", external_id="C", order_ref="ORD-SPECIAL", buyer_ref="buyer-zz")
    DisputeFactory(external_id="D", status=Dispute.Status.REFUND_APPROVED)
    client.force_login(reviewer)
    assert queue_ids(client, merchant=tmall.pk) == ["A"]
    assert queue_ids(client, platform="jd") == ["B"]
    assert queue_ids(client, risk="medium") == ["C"]
    assert queue_ids(client, overdue="on") == ["B"]
    assert queue_ids(client, q="special") == ["C"]
    assert queue_ids(client, q="buyer-zz") == ["C"]
    assert queue_ids(client, status="refund_approved") == ["D"]
    assert sorted(queue_ids(client, status="all")) == ["A", "B", "C", "D"]
    # Nonsense filters are ignored, never an error page.
    assert sorted(queue_ids(client, merchant="x", risk="extreme", page="999")) in (
        ["A", "B", "C"],
        [],
    )


@pytest.mark.django_db
def test_queue_row_shows_thumbnail_risk_reason_amount_and_time_left(client, reviewer):
    dispute = scored_dispute("high", amount="129.00", currency="CNY", thumbnail="d/t.jpg")
    client.force_login(reviewer)
    html = client.get(QUEUE).content.decode()
    thumb = reverse("disputes:claim_derived", args=[dispute.top_claim_image_id, "thumbnail"])
    assert thumb in html
    # The reviewer reads about the merchant, from the code and evidence (not the stored
    # message, which speaks to the merchant).
    assert "High risk" in html and "No match with the merchant&#x27;s evidence: this" in html
    assert "No match with your evidence" not in html
    assert "129.00 CNY" in html and "left" in html


@pytest.mark.django_db
def test_queue_says_your_only_for_the_merchants_the_reviewer_is_a_member_of(client, reviewer):
    own = MembershipFactory(user=reviewer).merchant
    scored_dispute("high", external_id="OWN", merchant=own)
    scored_dispute("medium", external_id="OTHER")
    client.force_login(reviewer)

    rows = client.get(QUEUE).content.decode().split('class="queue-row"')[1:]

    (mine,) = [row for row in rows if "OWN</strong>" in row]
    (theirs,) = [row for row in rows if "OTHER</strong>" in row]
    assert "No match with your evidence" in mine
    assert "No match with the merchant&#x27;s evidence" in theirs and "your" not in theirs


@pytest.mark.django_db
def test_queue_query_count_does_not_grow_with_rows(client, reviewer):
    client.force_login(reviewer)
    for _ in range(3):
        scored_dispute("high", thumbnail="d/t.jpg")
    client.get(QUEUE)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(QUEUE).status_code == 200
    for _ in range(22):
        scored_dispute("medium", thumbnail="d/t.jpg")
    with CaptureQueriesContext(connection) as many:
        assert client.get(QUEUE).status_code == 200
    assert len(many) == len(few)
    assert len(few) <= 8, [q["sql"] for q in few.captured_queries]


@pytest.mark.django_db
def test_queue_is_paginated(client, reviewer):
    for _ in range(27):
        scored_dispute("low")
    client.force_login(reviewer)
    first = client.get(QUEUE, {"risk": "low"})
    assert len(first.context["page"].object_list) == 25
    assert "?risk=low&amp;page=2" in first.content.decode()
    second = client.get(QUEUE, {"risk": "low", "page": 2})
    assert len(second.context["page"].object_list) == 2


@pytest.mark.django_db
def test_merchants_never_see_the_queue(client):
    member = MembershipFactory().user
    client.force_login(member)
    assert client.get(QUEUE).status_code == 403
    assert "Review queue" not in client.get(reverse("disputes:list")).content.decode()
    client.logout()
    assert client.get(QUEUE).status_code == 302  # to the login page


@pytest.mark.django_db
def test_scoped_reviewer_sees_only_their_merchants(client):
    mine, theirs = MerchantFactory(), MerchantFactory()
    own = scored_dispute("low", merchant=mine, external_id="MINE")
    other = scored_dispute("high", merchant=theirs, external_id="THEIRS")
    client.force_login(ReviewerFactory(merchants=[mine]).user)
    assert queue_ids(client) == ["MINE"]
    assert queue_ids(client, merchant=theirs.pk) in (["MINE"], [])
    assert client.get(reverse("disputes:detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("disputes:detail", args=[other.pk])).status_code == 404
    response = client.post(
        reverse("disputes:decide", args=[other.pk]),
        {"action": "approve", "version": other.version},
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == Dispute.Status.NEEDS_REVIEW


@pytest.mark.django_db
def test_reviewer_lands_on_the_queue_merchant_on_the_library(client, reviewer):
    client.force_login(reviewer)
    assert client.get("/")["Location"] == QUEUE
    client.force_login(MembershipFactory().user)
    assert client.get("/")["Location"] == reverse("evidence:home")


@pytest.mark.django_db
def test_second_reviewer_gets_a_conflict_and_nothing_is_overwritten(client):
    dispute = scored_dispute("high")
    first, second = ReviewerFactory().user, ReviewerFactory().user
    url = reverse("disputes:decide", args=[dispute.pk])
    seen = dispute.version  # both opened the page at this version
    client.force_login(first)
    assert client.post(url, {"action": "approve", "version": seen}).status_code == 302
    client.force_login(second)
    response = client.post(url, {"action": "reject", "note": "Edited photo", "version": seen})
    assert response.status_code == 409
    html = response.content.decode()
    assert "already decided this dispute" in html and first.get_username() in html
    assert "Edited photo" in html  # what the second reviewer typed is kept on the page
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.REFUND_APPROVED
    assert Decision.objects.filter(dispute=dispute).count() == 1


@pytest.mark.django_db
def test_a_change_since_the_page_was_read_is_a_conflict_too(client, reviewer):
    dispute = scored_dispute("medium")
    seen = dispute.version
    member = MembershipFactory(merchant=dispute.merchant).user
    services.merchant_statement_save(dispute=dispute, actor=member, text="Video shows it intact")
    client.force_login(reviewer)
    response = client.post(
        reverse("disputes:decide", args=[dispute.pk]), {"action": "approve", "version": seen}
    )
    assert response.status_code == 409
    assert "changed while you were reading it" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.NEEDS_REVIEW


@pytest.mark.django_db
def test_asking_for_more_evidence_and_the_merchant_answering(client, reviewer):
    dispute = scored_dispute("medium")
    member = MembershipFactory(merchant=dispute.merchant).user
    client.force_login(reviewer)
    client.post(
        reverse("disputes:decide", args=[dispute.pk]),
        {"action": "ask_merchant", "note": "Please send the packing video", "version": 1},
    )
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.MORE_EVIDENCE
    assert dispute.decisions.get().requested_from == "merchant"
    client.force_login(member)
    html = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Please send the packing video" in html and "the merchant" in html
    response = client.post(
        reverse("disputes:statement", args=[dispute.pk]), {"text": "Packed intact, see video."}
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.NEEDS_REVIEW  # back in the queue
    assert dispute.merchant_statement == "Packed intact, see video."
    client.force_login(reviewer)
    assert "Packed intact, see video." in (
        client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    )


@pytest.mark.django_db
def test_internal_notes_are_for_staff_only(client, reviewer):
    dispute = scored_dispute("high")
    member = MembershipFactory(merchant=dispute.merchant).user
    client.force_login(reviewer)
    response = client.post(
        reverse("disputes:note_add", args=[dispute.pk]), {"text": "Same buyer as last week"}
    )
    assert response.status_code == 302
    assert InternalNote.objects.filter(dispute=dispute).count() == 1
    assert "Same buyer as last week" in (
        client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    )
    client.force_login(member)
    html = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Same buyer as last week" not in html and "Internal notes" not in html
    assert "Internal note added" not in html  # nor in the merchant's audit trail
    forbidden = client.post(reverse("disputes:note_add", args=[dispute.pk]), {"text": "hi"})
    assert forbidden.status_code == 403
    assert InternalNote.objects.filter(dispute=dispute).count() == 1


@pytest.mark.django_db
def test_merchant_cannot_decide_and_reviewer_cannot_write_the_statement(client, reviewer):
    dispute = scored_dispute("high")
    member = MembershipFactory(merchant=dispute.merchant).user
    client.force_login(member)
    html = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert 'id="decision-form"' not in html
    response = client.post(
        reverse("disputes:decide", args=[dispute.pk]), {"action": "approve", "version": 1}
    )
    assert response.status_code == 403
    client.force_login(reviewer)
    response = client.post(reverse("disputes:statement", args=[dispute.pk]), {"text": "x"})
    assert response.status_code == 403
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.NEEDS_REVIEW and dispute.merchant_statement == ""


@pytest.mark.django_db
def test_buyer_history_lists_earlier_disputes_with_outcomes(client, reviewer):
    merchant = MerchantFactory()
    DisputeFactory(
        merchant=merchant,
        buyer_ref="tb_buyer_7",
        external_id="OLD-1",
        status=Dispute.Status.CLAIM_REJECTED,
        opened_at=timezone.now() - timedelta(days=30),
    )
    DisputeFactory(buyer_ref="tb_buyer_7", external_id="OTHER-SHOP")  # another merchant
    current = scored_dispute("high", merchant=merchant, buyer_ref="tb_buyer_7")
    client.force_login(reviewer)
    html = client.get(reverse("disputes:detail", args=[current.pk])).content.decode()
    assert "OLD-1" in html and "Decided: claim rejected" in html
    assert "OTHER-SHOP" not in html


@pytest.mark.django_db
def test_merchant_attaches_evidence_from_the_dispute_page(client):
    member = MembershipFactory()
    product = ProductFactory(merchant=member.merchant)
    dispute = scored_dispute("low", merchant=member.merchant, status=Dispute.Status.MORE_EVIDENCE)
    client.force_login(member.user)
    response = client.post(
        reverse("disputes:evidence_attach", args=[dispute.pk]),
        {
            "product": product.pk,
            "photos": [SimpleUploadedFile("warehouse.jpg", jpeg_bytes(sample("coffee")))],
            "video": SimpleUploadedFile("pack.mp4", b"\x00\x00\x00\x18ftypmp42 not a video"),
        },
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "warehouse.jpg stored" in html
    assert "pack.mp4:" in html  # the bad video is reported, the photo kept
    assert ReferencePhoto.objects.filter(product=product).count() == 1
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.NEEDS_REVIEW
    event = AuditEvent.objects.filter(dispute=dispute, action="evidence.attached").get()
    assert [f["name"] for f in event.data["files"]] == ["warehouse.jpg"]


@pytest.mark.django_db
def test_attaching_photos_needs_a_product(client):
    member = MembershipFactory()
    dispute = scored_dispute("low", merchant=member.merchant)
    client.force_login(member.user)
    response = client.post(
        reverse("disputes:evidence_attach", args=[dispute.pk]),
        {"photos": [SimpleUploadedFile("a.jpg", jpeg_bytes(sample("coffee")))]},
    )
    assert response.status_code == 400
    assert "Choose the product these photos show." in response.content.decode()
    assert ReferencePhoto.objects.count() == 0


@pytest.mark.django_db
def test_queue_and_dispute_page_in_chinese(client, reviewer):
    dispute = scored_dispute("high")
    client.force_login(reviewer)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(QUEUE).content.decode()
    assert "审核队列" in html and "高风险" in html
    html = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "内部备注" in html and "买家争议记录" in html


@pytest.mark.django_db
def test_reviewer_reads_matched_originals_only_within_scope(client):
    from tests.disputes.fixtures import reference_photo

    member = MembershipFactory()
    product = ProductFactory(merchant=member.merchant)
    photo = reference_photo(product, sample("coffee"), "front.jpg")
    urls = [
        reverse("evidence:photo_file", args=[photo.pk]),
        reverse("evidence:photo_thumbnail", args=[photo.pk]),
    ]
    client.force_login(ReviewerFactory(merchants=[member.merchant]).user)
    assert [client.get(u).status_code for u in urls] == [200, 200]
    client.force_login(ReviewerFactory(merchants=[MerchantFactory()]).user)
    assert [client.get(u).status_code for u in urls] == [404, 404]
    # Reviewers read evidence; they do not upload it.
    response = client.post(reverse("evidence:product_detail", args=[product.pk]), {})
    assert response.status_code == 404


@pytest.mark.django_db
def test_merchant_dispute_list_pages_keep_the_search(client):
    member = MembershipFactory()
    for n in range(27):
        DisputeFactory(merchant=member.merchant, order_ref=f"SHOP-{n}")
    client.force_login(member.user)
    html = client.get(reverse("disputes:list"), {"q": "SHOP"}).content.decode()
    assert "?q=SHOP&amp;page=2" in html


@pytest.mark.django_db
def test_admin_lists_review_desk_models(admin_client):
    dispute = scored_dispute("high")
    ReviewerFactory(merchants=[dispute.merchant])
    for model in ["dispute", "decision", "internalnote", "claimimage"]:
        response = admin_client.get(reverse(f"admin:disputes_{model}_changelist"))
        assert response.status_code == 200, model
    assert admin_client.get(reverse("admin:core_auditevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:core_reviewer_add")).status_code == 200
