"""Security settings that are tested, not assumed: the deploy check with production
settings, the refusal to run in production on the development keys, the
Content-Security-Policy with per-response nonces, login throttling."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD, MembershipFactory

ROOT = Path(__file__).resolve().parents[2]


#: The variables these subprocesses set themselves; the rest of the environment is kept.
_KEY_VARIABLES = (
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "REFUNDGUARD_BUYER_KEY",
    "REFUNDGUARD_AUDIT_KEY",
)
#: Only for these tests: any value that is not the development key is a "real" one here.
_REAL_KEY = "real-" + "k" * 50


def manage(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``manage.py ARGS`` in a fresh process with only ``variables`` of the key settings."""
    env = {k: v for k, v in os.environ.items() if k not in _KEY_VARIABLES}
    env.pop("REFUNDGUARD_HTTPS", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    env.update(DJANGO_ALLOWED_HOSTS="refundguard.example.com", REFUNDGUARD_VAR_DIR=str(tmp_path))
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_production_settings(tmp_path: Path) -> None:
    result = manage(
        tmp_path,
        *("check", "--deploy", "--fail-level", "WARNING"),
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        REFUNDGUARD_BUYER_KEY=secrets.token_urlsafe(50),
        REFUNDGUARD_AUDIT_KEY=secrets.token_urlsafe(50),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": settings.DEVELOPMENT_SECRET_KEY}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": _REAL_KEY}, "REFUNDGUARD_BUYER_KEY"),
        (
            {
                "DJANGO_SECRET_KEY": _REAL_KEY,
                "REFUNDGUARD_BUYER_KEY": settings.DEVELOPMENT_SECRET_KEY,
            },
            "REFUNDGUARD_BUYER_KEY",
        ),
        (
            {"DJANGO_SECRET_KEY": _REAL_KEY, "REFUNDGUARD_BUYER_KEY": _REAL_KEY},
            "REFUNDGUARD_AUDIT_KEY",
        ),
        (
            {
                "DJANGO_SECRET_KEY": _REAL_KEY,
                "REFUNDGUARD_BUYER_KEY": _REAL_KEY,
                "REFUNDGUARD_AUDIT_KEY": settings.DEVELOPMENT_SECRET_KEY,
            },
            "REFUNDGUARD_AUDIT_KEY",
        ),
    ],
    ids=[
        "no-key",
        "empty-key",
        "dev-key",
        "no-buyer-key",
        "dev-buyer-key",
        "no-audit-key",
        "dev-audit-key",
    ],
)
def test_production_refuses_to_start_on_a_development_key(
    tmp_path: Path, variables: dict[str, str], named: str
) -> None:
    result = manage(tmp_path, "check", DJANGO_DEBUG="false", **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{named} is unset or is the development key" in result.stderr


def test_production_starts_with_real_keys(tmp_path: Path) -> None:
    result = manage(
        tmp_path,
        "check",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        REFUNDGUARD_BUYER_KEY=secrets.token_urlsafe(50),
        REFUNDGUARD_AUDIT_KEY=secrets.token_urlsafe(50),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


_SHOW = (
    "from django.conf import settings; "
    "print(settings.DEBUG, settings.REFUNDGUARD_BUYER_KEY, settings.REFUNDGUARD_AUDIT_KEY)"
)


def test_a_fresh_clone_runs_in_development_and_a_real_key_means_production(
    tmp_path: Path,
) -> None:
    fresh = manage(tmp_path, "shell", "--no-imports", "-c", _SHOW)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.split() == ["True", *[settings.DEVELOPMENT_SECRET_KEY] * 2]
    # A real key without DJANGO_DEBUG is a production deployment: DEBUG off by default.
    deployed = manage(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        _SHOW,
        DJANGO_SECRET_KEY=_REAL_KEY,
        REFUNDGUARD_BUYER_KEY="buyers",
        REFUNDGUARD_AUDIT_KEY="audit",
    )
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.split() == ["False", "buyers", "audit"]


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
