"""The evidence pack tells its times in the merchant's zone and names it."""

from __future__ import annotations

from datetime import UTC, datetime

import pymupdf

from disputes.models import Dispute
from packs import services
from packs.models import EvidencePack
from tests.packs.test_build import local_path


def test_the_pack_shows_times_in_the_merchants_zone(exportable) -> None:
    owner, dispute = exportable
    Dispute.objects.filter(pk=dispute.pk).update(
        opened_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
        respond_by=datetime(2026, 12, 8, 10, 0, tzinfo=UTC),
    )
    dispute.refresh_from_db()
    pack = services.evidence_pack_request(dispute=dispute, actor=owner.user)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.READY, pack.failure_reason
    first = pymupdf.open(local_path(pack.pdf.name))[0].get_text()
    text = " ".join(first.split())
    assert "Every time in this report is in UTC+8 (Asia/Shanghai)." in text
    dates = "2026-12-01 10:00 UTC+8 (Asia/Shanghai) / 2026-12-08 18:00 UTC+8 (Asia/Shanghai)"
    assert dates.replace(" ", "") in "".join(first.split())  # a line may break anywhere
    assert " UTC by " not in text
