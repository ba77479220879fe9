"""The demo loader (it needs every app, so it lives in disputes): repeatable, and it
says how to sign in."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from disputes.models import Dispute
from evidence.models import PackingVideo, ReferencePhoto


@pytest.mark.django_db
def test_seed_demo_is_repeatable_and_names_the_logins():
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert ReferencePhoto.objects.filter(merchant__slug="demo-shop").count() == 5
    assert PackingVideo.objects.filter(order_ref="DEMO-1001").count() == 1
    assert Dispute.objects.filter(merchant__slug="demo-shop").count() == 2
    assert "demo-owner" in out.getvalue() and "demo-reviewer" in out.getvalue()
