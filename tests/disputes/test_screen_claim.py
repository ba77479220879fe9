"""The screening CLI contract (DESIGN.md): files only, JSON in input order, per-file
errors, exit 2 on bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.disputes.fixtures import doctored, jpeg_bytes, png_with_aigc_label, sample

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "screen_claim", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:////nonexistent/db.sqlite3", **env},
    )  # fmt: skip


def test_contract(tmp_path):
    originals = tmp_path / "originals"
    originals.mkdir()
    (originals / "mug-front.jpg").write_bytes(jpeg_bytes(sample("coffee")))
    (originals / "rocket.jpg").write_bytes(jpeg_bytes(sample("rocket")))
    claim, _ = doctored(sample("coffee"))
    (tmp_path / "doctored.jpg").write_bytes(jpeg_bytes(claim))
    (tmp_path / "honest.jpg").write_bytes(jpeg_bytes(sample("astronaut")))
    (tmp_path / "ai.png").write_bytes(png_with_aigc_label(sample("astronaut")))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (tmp_path / "empty.jpg").write_bytes(b"")
    names = ["doctored.jpg", "broken.jpg", "honest.jpg", "ai.png", "empty.jpg"]
    claims = [tmp_path / n for n in names]

    result = run("--originals", str(originals), "--json", *map(str, claims))

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [o["claim"] for o in out] == [str(c) for c in claims]
    doctored_out, broken_out, honest_out, ai_out, empty_out = out
    assert empty_out == {"claim": str(claims[-1]), "error": "The file is empty (0 bytes)."}
    assert doctored_out["flagged"] and doctored_out["level"] == "high"
    assert doctored_out["best_match"]["original"].endswith("mug-front.jpg")
    assert isinstance(doctored_out["best_match"]["distance"], int | float)
    assert len(doctored_out["region"]) == 4
    assert 0 <= doctored_out["score"] <= 1
    assert set(broken_out) == {"claim", "error"}
    assert not honest_out["flagged"] and honest_out["region"] is None
    assert honest_out["reasons"][0]["code"] == "no_match"
    assert ai_out["flagged"] and any(r["code"] == "ai_provenance" for r in ai_out["reasons"])


def test_wrong_arguments_exit_2(tmp_path):
    claim = tmp_path / "c.jpg"
    claim.write_bytes(jpeg_bytes(sample("coffee")))
    assert run(str(claim)).returncode == 2  # no originals
    assert run("--originals", str(tmp_path / "missing"), str(claim)).returncode == 2
    assert run("--originals", str(tmp_path)).returncode == 2  # no claim


def test_content_credential_signers_are_trusted_only_through_the_given_anchors(tmp_path):
    from tests.forensics.test_provenance_c2pa import signed

    originals = tmp_path / "originals"
    originals.mkdir()
    (originals / "rocket.jpg").write_bytes(jpeg_bytes(sample("rocket")))
    data, anchor = signed("trainedAlgorithmicMedia")
    claim = tmp_path / "generated.jpg"
    claim.write_bytes(data)
    bundle = tmp_path / "anchors.pem"
    bundle.write_text(anchor)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")

    def ai_message(result: subprocess.CompletedProcess[str]) -> str:
        assert result.returncode == 0, result.stderr
        (out,) = json.loads(result.stdout)
        return next(r["message"] for r in out["reasons"] if r["code"] == "ai_provenance")

    plain = run("--originals", str(originals), "--json", str(claim))
    given = run("--originals", str(originals), "--c2pa-trust-anchors", str(bundle), "--json",
                str(claim))  # fmt: skip
    configured = run("--originals", str(originals), "--json", str(claim),
                     REFUNDGUARD_C2PA_TRUST_ANCHORS=str(bundle))  # fmt: skip

    assert ai_message(plain).endswith(", not on a trust list.")
    assert ai_message(given).endswith(", on the trust list.")
    assert ai_message(configured).endswith(", on the trust list.")
    refused = run("--originals", str(originals), "--c2pa-trust-anchors", str(junk), str(claim))
    assert refused.returncode == 2 and "no PEM certificate" in refused.stderr
    # A setting that names no bundle stops the process at start-up, naming the variable.
    misconfigured = run("--originals", str(originals), str(claim),
                        REFUNDGUARD_C2PA_TRUST_ANCHORS=str(junk))  # fmt: skip
    assert misconfigured.returncode != 0
    assert "REFUNDGUARD_C2PA_TRUST_ANCHORS" in misconfigured.stderr
