"""Each evidence pack carries its merchant's audit chain head as it stood when the pack
was built (manifest.json and the PDF), so the pack itself anchors the chain outside the
database."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pymupdf
from django.core.management import call_command
from django.db import transaction

from core.audit import audit_record
from core.models import AuditEvent
from packs import services
from packs.models import EvidencePack
from tests.factories import MerchantFactory
from tests.packs.test_build import local_path


def test_a_pack_carries_the_chain_head_and_every_commit_is_anchored(
    exportable, audit_anchors: Path, capsys
) -> None:
    owner, dispute = exportable
    with transaction.atomic():
        pack = services.evidence_pack_request(dispute=dispute, actor=owner.user)
        # Committed before the pack is built: the newest event, but in another chain.
        elsewhere = audit_record(merchant=MerchantFactory(), action="test.elsewhere")
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.READY, pack.failure_reason
    exported = AuditEvent.objects.get(action="pack.exported", dispute=dispute)
    # The merchant's newest event at build time (its pack.requested), not the newest of all.
    head = AuditEvent.objects.get(hash=exported.prev_hash)
    assert head.action == "pack.requested" and head.pk < elsewhere.pk
    with zipfile.ZipFile(local_path(pack.archive.name)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["audit_chain_head"] == {
        "event": head.pk,
        "hash": head.hash,
        "at": head.created_at.isoformat(),
        "scheme": "hmac-sha256",
        "merchant": dispute.merchant_id,
        "seq": head.seq,
    }
    assert head.merchant_id == dispute.merchant_id and head.seq == exported.seq - 1
    text = "".join(page.get_text() for page in pymupdf.open(local_path(pack.pdf.name)))
    assert head.hash in text.replace("\n", "")
    assert f"event {head.pk} at" in text.replace("\n", " ")
    # Every event of the real flow (uploads, analysis, export) was anchored on commit.
    anchored = {json.loads(line)["event"] for line in audit_anchors.read_text().splitlines()}
    assert anchored == set(AuditEvent.objects.values_list("id", flat=True))
    call_command("verify_custody", verbosity=0)
    out = capsys.readouterr().out
    assert f"{len(anchored)} anchored event(s) checked" in out and "intact" in out
