"""Security settings that are tested, not assumed: the deploy check with production
settings, the Content-Security-Policy with per-response nonces, login throttling."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, MembershipFactory

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_check_passes_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "refundguard.example.com",
        "REFUNDGUARD_VAR_DIR": str(tmp_path),
    }
    env.pop("REFUNDGUARD_HTTPS", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_pages_carry_a_strict_csp_and_their_scripts_the_nonce(client, product):
    client.force_login(MembershipFactory(merchant=product.merchant).user)
    response = client.get(reverse("evidence:product_detail", args=[product.pk]))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    html = response.content.decode()
    inline = [part for part in html.split("<script")[1:] if "src=" not in part.split(">")[0]]
    assert inline and all(f'nonce="{nonce}"' in part.split(">")[0] for part in inline)
    assert " onchange=" not in html and " onclick=" not in html
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_account_for_that_address(client):
    member = MembershipFactory(user__username="target")
    url = reverse("login")
    for _ in range(5):
        response = client.post(url, {"username": "target", "password": "wrong"})
        assert response.status_code in (200, 429)
    locked = client.post(url, {"username": "target", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not affected.
    MembershipFactory(user__username="other")
    ok = client.post(url, {"username": "other", "password": PASSWORD})
    assert ok.status_code == 302
    assert member.user.pk != int(client.session["_auth_user_id"])
