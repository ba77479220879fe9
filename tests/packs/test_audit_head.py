"""Each evidence pack carries the audit chain's head as it stood when the pack was built
(manifest.json and the PDF), so the pack itself anchors the chain outside the database."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pymupdf
from django.core.management import call_command

from core.models import AuditEvent
from tests.packs.test_build import build, local_path


def test_a_pack_carries_the_chain_head_and_every_commit_is_anchored(
    exportable, audit_anchors: Path, capsys
) -> None:
    owner, dispute = exportable
    pack = build(dispute, owner.user)
    exported = AuditEvent.objects.get(action="pack.exported", dispute=dispute)
    head = AuditEvent.objects.get(hash=exported.prev_hash)  # the newest event at build time
    with zipfile.ZipFile(local_path(pack.archive.name)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["audit_chain_head"] == {
        "event": head.pk,
        "hash": head.hash,
        "at": head.created_at.isoformat(),
        "scheme": "hmac-sha256",
    }
    text = "".join(page.get_text() for page in pymupdf.open(local_path(pack.pdf.name)))
    assert head.hash in text.replace("\n", "")
    assert f"event {head.pk} at" in text.replace("\n", " ")
    # Every event of the real flow (uploads, analysis, export) was anchored on commit.
    anchored = {json.loads(line)["event"] for line in audit_anchors.read_text().splitlines()}
    assert anchored == set(AuditEvent.objects.values_list("id", flat=True))
    call_command("verify_custody", verbosity=0)
    out = capsys.readouterr().out
    assert f"{len(anchored)} anchored event(s) checked" in out and "intact" in out
