"""Deadlines in the merchant's zone: typed in it on the dispute form, shown in it (zone
named) on the pages, beside a support reviewer's own zone, and in the API."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Membership
from disputes.forms import DisputeForm
from disputes.models import Dispute
from disputes.templatetags.deadlines import time_left
from tests.api.conftest import token_client
from tests.disputes.factories import DisputeFactory, scored_dispute
from tests.factories import MembershipFactory, ReviewerFactory

#: 2026-12-08 18:00 in China is 10:00 UTC (and 11:00 in Berlin).
DEADLINE = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
SHANGHAI = "2026-12-08 18:00 UTC+8 (Asia/Shanghai)"
BERLIN = "2026-12-08 11:00 UTC+1 (Europe/Berlin)"


def form_fields(**extra: object) -> dict[str, object]:
    return {
        "platform": "taobao",
        "external_id": "TB-TZ-1",
        "order_ref": "ORD-TZ",
        "claim_type": "refund_only",
        "amount": "59.90",
        "currency": "CNY",
        "respond_by": "2026-12-08T18:00",
        **extra,
    }


@pytest.mark.django_db
def test_a_deadline_typed_in_china_time_is_stored_in_utc(client):
    owner = MembershipFactory()
    assert owner.merchant.time_zone == "Asia/Shanghai"
    client.force_login(owner.user)
    form = client.get(reverse("disputes:create")).content.decode()
    assert "Time in UTC+8 (Asia/Shanghai)." in form
    response = client.post(reverse("disputes:create"), form_fields())
    assert response.status_code == 302, response.content
    dispute = Dispute.objects.get(external_id="TB-TZ-1")
    assert dispute.respond_by == DEADLINE
    assert dispute.respond_by.astimezone(UTC).hour == 10


@pytest.mark.django_db
def test_the_form_reads_the_merchants_zone_whatever_zone_is_active():
    owner = MembershipFactory(merchant__time_zone="America/New_York")
    with timezone.override("Asia/Tokyo"):
        form = DisputeForm(form_fields(), merchant=owner.merchant)
        assert form.is_valid(), form.errors
    assert form.cleaned_data["respond_by"] == datetime(2026, 12, 8, 23, 0, tzinfo=UTC)
    # The initial deadline (in two days) is shown in the merchant's zone too.
    with timezone.override("Asia/Tokyo"):
        blank = DisputeForm(merchant=owner.merchant)
        widget = str(blank["respond_by"])
    initial = blank.fields["respond_by"].initial
    expected = timezone.localtime(initial, ZoneInfo("America/New_York"))
    assert f'value="{expected:%Y-%m-%dT%H:%M}"' in widget


@pytest.mark.django_db
def test_a_time_that_does_not_exist_in_the_zone_is_a_form_error():
    owner = MembershipFactory(merchant__time_zone="Europe/Berlin")
    form = DisputeForm(form_fields(respond_by="2026-03-29T02:30"), merchant=owner.merchant)
    assert not form.is_valid() and "respond_by" in form.errors


@pytest.mark.django_db
def test_the_dispute_page_shows_the_deadline_in_the_merchants_zone(client):
    owner = MembershipFactory()
    dispute = DisputeFactory(
        merchant=owner.merchant, respond_by=DEADLINE, opened_at=DEADLINE - timedelta(days=1)
    )
    client.force_login(owner.user)
    page = html.unescape(client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode())
    assert f'Respond by <span id="respond-by">{SHANGHAI}</span>' in page
    assert "2026-12-07 18:00 UTC+8 (Asia/Shanghai)" in page  # opened
    assert "where you are" not in page
    assert "Times are shown in UTC+8 (Asia/Shanghai)." in page
    listing = html.unescape(client.get(reverse("disputes:list")).content.decode())
    assert 'Respond by <span class="small muted">UTC+8 (Asia/Shanghai)</span>' in listing


@pytest.mark.django_db
def test_a_reviewer_in_berlin_sees_the_merchants_zone_and_their_own(client):
    owner = MembershipFactory()
    dispute = scored_dispute("high", merchant=owner.merchant, respond_by=DEADLINE)
    reviewer = ReviewerFactory(time_zone="Europe/Berlin")
    client.force_login(reviewer.user)
    page = html.unescape(client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode())
    assert f"{SHANGHAI} · {BERLIN} where you are" in page
    assert "Times are shown in UTC+1 (Europe/Berlin)." in page  # the reviewer's page zone
    queue = html.unescape(client.get(reverse("disputes:queue")).content.decode())
    assert f"{SHANGHAI} · {BERLIN} where you are" in queue
    # A reviewer whose zone is the merchant's sees it once.
    same = ReviewerFactory(time_zone="Asia/Shanghai")
    client.force_login(same.user)
    page = html.unescape(client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode())
    assert SHANGHAI in page and "where you are" not in page


def test_time_left_counts_between_instants_not_wall_clocks():
    deadline = datetime(2026, 12, 8, 18, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))
    now = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # 16:00 in China
    assert time_left(deadline, now) == "2\xa0hours left"
    with timezone.override("Europe/Berlin"):  # whatever zone the page is in
        assert time_left(deadline, now) == "2\xa0hours left"
    assert time_left(deadline, now + timedelta(hours=3)) == "overdue by 1\xa0hour"


@pytest.mark.django_db
def test_the_api_reads_a_naive_time_in_the_merchants_zone_and_answers_with_its_offset():
    api = token_client()
    assert api.merchant.time_zone == "Asia/Shanghai"
    fields = {
        "platform": "taobao",
        "external_id": "TB-API-TZ",
        "order_ref": "ORD-1",
        "claim_type": "refund_only",
        "amount": "10.00",
        "respond_by": "2026-12-08T18:00:00",  # no offset: China time
        "opened_at": "2026-12-05T02:00:00Z",
    }
    created = api.client.post("/api/v1/disputes/", fields, format="multipart")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["respond_by"] == "2026-12-08T18:00:00+08:00"
    assert body["opened_at"] == "2026-12-05T10:00:00+08:00"
    dispute = Dispute.objects.get(pk=body["id"])
    assert dispute.respond_by == DEADLINE
    # The same instant with any offset is the same deadline.
    other = api.client.post(
        "/api/v1/disputes/",
        {**fields, "external_id": "TB-API-TZ-2", "respond_by": "2026-12-08T11:00:00+01:00"},
        format="multipart",
    )
    assert Dispute.objects.get(pk=other.json()["id"]).respond_by == DEADLINE
    read = api.client.get(f"/api/v1/disputes/{dispute.pk}/").json()
    assert read["respond_by"] == "2026-12-08T18:00:00+08:00"
    # Filters read a naive time in the merchant's zone as well.
    after = api.client.get("/api/v1/disputes/", {"respond_by_after": "2026-12-08T18:00:00"})
    assert len(after.json()["results"]) == 2
    later = api.client.get("/api/v1/disputes/", {"respond_by_after": "2026-12-08T18:01:00"})
    assert later.json()["results"] == []
    # A merchant in UTC gets UTC (written with Z).
    utc = token_client(merchant__time_zone="UTC")
    created = utc.client.post("/api/v1/disputes/", fields, format="multipart")
    assert created.json()["respond_by"] == "2026-12-08T18:00:00Z"


@pytest.mark.django_db
def test_a_signed_in_owner_of_another_shop_gets_the_tokens_zone(client):
    api = token_client(merchant__time_zone="Europe/Berlin")
    other = MembershipFactory(role=Membership.Role.OWNER)  # a session in China time
    client.force_login(other.user)
    DisputeFactory(merchant=api.merchant, respond_by=DEADLINE)
    listed = client.get("/api/v1/disputes/", HTTP_AUTHORIZATION=f"Bearer {api.secret}").json()[
        "results"
    ]
    assert listed[0]["respond_by"] == "2026-12-08T11:00:00+01:00"
