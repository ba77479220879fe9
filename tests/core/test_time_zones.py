"""Time zones: names validated through zoneinfo, times read in a zone with the zone named,
and the settings page where an owner sets the shop's zone and a reviewer their own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core import services
from core.models import AuditEvent, Membership, Merchant
from core.timezones import validate_time_zone, zone_label, zoned
from tests.factories import MembershipFactory, MerchantFactory, ReviewerFactory

SETTINGS = reverse("core:time_zone")
DEADLINE = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


def test_a_time_reads_in_the_zone_it_names() -> None:
    assert zoned(DEADLINE, "Asia/Shanghai") == "2026-12-08 18:00 UTC+8 (Asia/Shanghai)"
    assert zoned(DEADLINE, "Europe/Berlin") == "2026-12-08 11:00 UTC+1 (Europe/Berlin)"
    assert zoned(DEADLINE, "UTC") == "2026-12-08 10:00 UTC"
    assert zoned(DEADLINE, "Asia/Kolkata") == "2026-12-08 15:30 UTC+5:30 (Asia/Kolkata)"
    assert zoned(DEADLINE, "America/New_York") == "2026-12-08 05:00 UTC-5 (America/New_York)"
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # the offset follows summer time
    assert zoned(summer, "Europe/Berlin") == "2026-07-01 12:00 UTC+2 (Europe/Berlin)"
    assert zone_label("Asia/Shanghai") == "UTC+8 (Asia/Shanghai)"
    assert zoned(None) == ""


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "", "asia/shanghai ", "../etc/passwd", "+08:00"]
)
def test_a_name_that_is_not_an_iana_zone_is_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        validate_time_zone(name)


@pytest.mark.django_db
def test_a_merchant_starts_in_china_time_and_the_model_refuses_a_bad_zone() -> None:
    merchant = MerchantFactory()
    assert merchant.time_zone == "Asia/Shanghai"
    merchant.time_zone = "Moon/Base"
    with pytest.raises(ValidationError) as refused:
        merchant.full_clean()
    assert "time_zone" in refused.value.error_dict


@pytest.mark.django_db
def test_the_owner_sets_the_shops_zone_and_it_is_audited(client) -> None:
    owner = MembershipFactory()
    client.force_login(owner.user)
    page = client.get(SETTINGS)
    assert page.status_code == 200
    assert '<option value="Asia/Shanghai" selected>' in page.content.decode()
    saved = client.post(SETTINGS, {"which": "merchant", "merchant-time_zone": "Europe/Berlin"})
    assert saved.status_code == 302
    owner.merchant.refresh_from_db()
    assert owner.merchant.time_zone == "Europe/Berlin"
    event = AuditEvent.objects.get(action="merchant.time_zone_set")
    assert event.data == {"from": "Asia/Shanghai", "to": "Europe/Berlin"}
    assert event.actor == owner.user


@pytest.mark.django_db
def test_an_invalid_zone_is_refused_with_a_form_error(client) -> None:
    owner = MembershipFactory()
    client.force_login(owner.user)
    refused = client.post(SETTINGS, {"which": "merchant", "merchant-time_zone": "Mars/Base"})
    assert refused.status_code == 400
    errors = refused.context["shop_form"].errors["time_zone"]
    assert errors == ["“Mars/Base” is not a time zone: choose a name such as Asia/Shanghai or UTC."]
    assert "is not a time zone" in refused.content.decode()
    owner.merchant.refresh_from_db()
    assert owner.merchant.time_zone == "Asia/Shanghai"
    assert not AuditEvent.objects.filter(action="merchant.time_zone_set").exists()


@pytest.mark.django_db
def test_an_agent_reads_the_zone_but_only_the_owner_changes_it(client) -> None:
    agent = MembershipFactory(role=Membership.Role.AGENT)
    client.force_login(agent.user)
    page = client.get(SETTINGS).content.decode()
    assert "Only the shop's owner changes it." in page and "merchant-time_zone" not in page
    refused = client.post(SETTINGS, {"which": "merchant", "merchant-time_zone": "UTC"})
    assert refused.status_code == 403
    with pytest.raises(PermissionDenied):
        services.merchant_time_zone_set(merchant=agent.merchant, actor=agent.user, time_zone="UTC")
    assert Merchant.objects.get(pk=agent.merchant_id).time_zone == "Asia/Shanghai"


@pytest.mark.django_db
def test_a_reviewer_sets_their_own_zone(client) -> None:
    reviewer = ReviewerFactory()
    assert reviewer.time_zone == "UTC"
    client.force_login(reviewer.user)
    page = client.get(SETTINGS).content.decode()
    assert "Your own time zone" in page and "merchant-time_zone" not in page
    bad = client.post(SETTINGS, {"which": "reviewer", "reviewer-time_zone": "Berlin"})
    assert bad.status_code == 400 and bad.context["own_form"].errors["time_zone"]
    saved = client.post(SETTINGS, {"which": "reviewer", "reviewer-time_zone": "Europe/Berlin"})
    assert saved.status_code == 302
    reviewer.refresh_from_db()
    assert reviewer.time_zone == "Europe/Berlin"
    other = ReviewerFactory()
    with pytest.raises(PermissionDenied):
        services.reviewer_time_zone_set(reviewer=other, actor=reviewer.user, time_zone="UTC")


@pytest.mark.django_db
def test_the_admin_offers_zone_names_and_refuses_others(admin_client) -> None:
    merchant = MerchantFactory()
    url = reverse("admin:core_merchant_change", args=[merchant.pk])
    form = admin_client.get(url).content.decode()
    assert '<option value="Asia/Shanghai" selected>' in form
    fields = {
        "slug": merchant.slug,
        "name": merchant.name,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    refused = admin_client.post(url, {**fields, "time_zone": "Mars/Base"})
    assert refused.status_code == 200 and "is not one of the available choices" in (
        refused.content.decode()
    )
    saved = admin_client.post(url, {**fields, "time_zone": "Asia/Tokyo"})
    assert saved.status_code == 302
    merchant.refresh_from_db()
    assert merchant.time_zone == "Asia/Tokyo"
