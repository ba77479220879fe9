"""Building an evidence pack end to end (Celery eager): the PDF is rendered back to text
and images, the ZIP is checked against the database's upload hashes."""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from io import StringIO
from pathlib import Path

import pymupdf
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import AuditEvent
from forensics.same_photo import NEAR_COPY_THRESHOLD
from packs import services
from packs.models import EvidencePack
from tests.conftest import stored_bytes_replace
from tests.factories import ReviewerFactory

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def build(dispute, user) -> EvidencePack:  # type: ignore[no-untyped-def]
    pack = services.evidence_pack_request(dispute=dispute, actor=user)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.READY, pack.failure_reason
    return pack


#: Where ``local_path`` puts its copies (removed when the test run ends).
_DOWNLOADS = tempfile.TemporaryDirectory(prefix="refundguard-downloads-")


def local_path(name: str) -> str:
    """A downloaded copy of a stored file (the storage may be a bucket, not a folder)."""
    with default_storage.open(name) as fh:
        data = fh.read()
    path = Path(tempfile.mkdtemp(dir=_DOWNLOADS.name)) / Path(name).name
    path.write_bytes(data)
    return str(path)


def test_the_pdf_tells_the_whole_case_in_english_and_chinese(exportable) -> None:
    owner, dispute = exportable
    pack = build(dispute, owner.user)
    pdf = pymupdf.open(local_path(pack.pdf.name))
    assert pdf.page_count == pack.pdf_pages
    # Summary, two claim photos, the packing video, provenance + timeline, appendix.
    assert pdf.page_count >= 6
    text = "\n".join(page.get_text() for page in pdf)
    first = pdf[0].get_text()
    for expected in ("TB-PACK-1", "ORDER-1", "129.00 CNY", "杯子碎了，要求仅退款", "High risk"):
        assert expected in first, expected
    assert "This is the merchant's photo MUG-1 / mug-front.jpg" in text
    assert "Claim photo 1: broken.jpg" in text and "Claim photo 2: other.jpg" in text
    assert "Packing video of order ORDER-1" in text and "Frame at" in text
    assert "Dispute opened" in text  # the timeline, in words
    for image in dispute.claim_images.all():
        assert image.sha256 in text.replace("\n", "")  # the appendix lists every hash
    claim_page = next(i for i, p in enumerate(pdf) if "Claim photo 1" in p.get_text())
    assert pdf[claim_page].get_images(), "the claim page shows the photos"
    ARTIFACTS.mkdir(exist_ok=True)
    pdf[0].get_pixmap(dpi=80).save(ARTIFACTS / "pack-summary.png")
    pdf[claim_page].get_pixmap(dpi=80).save(ARTIFACTS / "pack-claim.png")


def test_the_zip_holds_originals_byte_for_byte_with_their_upload_hashes(exportable) -> None:
    owner, dispute = exportable
    pack = build(dispute, owner.user)
    with zipfile.ZipFile(local_path(pack.archive.name)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        evidence = json.loads(zf.read("evidence.json"))
        names = set(zf.namelist())
        listed = {e["path"]: e for e in manifest["files"]}
        for image in dispute.claim_images.all():
            entry = next(e for e in manifest["files"] if e["sha256"] == image.sha256)
            with default_storage.open(image.file.name, "rb") as fh:
                assert zf.read(entry["path"]) == fh.read()
            assert entry["kind"] == "original" and entry["uploaded_at"]
    assert {"report.pdf", "manifest.json", "evidence.json"} <= names
    assert any(p.startswith("originals/reference-photos/") for p in names)
    assert any(p.startswith("originals/packing-videos/") for p in names)
    assert any(p.startswith("derived/stills/") for p in names)
    assert any(p.endswith("difference-heatmap.png") for p in names)
    assert listed["report.pdf"]["uploaded_by"] == "shop-owner"
    assert set(evidence) >= {
        "product_description", "customer_communication", "shipping_documentation",
        "uncategorized_file", "uncategorized_text",
    }  # fmt: skip
    assert evidence["shipping_documentation"] and evidence["customer_name"] == dispute.buyer_ref
    out = StringIO()
    call_command("verify_pack", local_path(pack.archive.name), stdout=out)
    assert "match the manifest" in out.getvalue()
    actions = list(AuditEvent.objects.filter(dispute=dispute).values_list("action", flat=True))
    assert "pack.requested" in actions and "pack.exported" in actions


def test_verify_pack_names_a_file_changed_after_export(exportable, tmp_path: Path) -> None:
    owner, dispute = exportable
    pack = build(dispute, owner.user)
    tampered = tmp_path / "tampered.zip"
    with (
        zipfile.ZipFile(local_path(pack.archive.name)) as src,
        zipfile.ZipFile(tampered, "w") as out,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if "claim-photos/01-" in info.filename:
                data = data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:]
            out.writestr(info, data)
    err = StringIO()
    with pytest.raises(CommandError, match="not intact"):
        call_command("verify_pack", str(tampered), stderr=err)
    assert "MISMATCH originals/claim-photos/01-broken.jpg" in err.getvalue()


def test_caps_leave_files_and_pages_out_and_say_so(exportable, settings) -> None:
    owner, dispute = exportable
    settings.PACK_MAX_FILES = 3
    settings.PACK_MAX_PAGES = 4
    pack = build(dispute, owner.user)
    assert pack.pdf_pages <= 4
    with zipfile.ZipFile(local_path(pack.archive.name)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    originals = [e for e in manifest["files"] if e["kind"] in ("original", "derived")]
    assert len(originals) == 3
    assert all(e["path"].startswith("originals/claim-photos/") or "reference" in e["path"]
               for e in originals)  # fmt: skip
    left = {item["item"]: item["reason"] for item in manifest["left_out"]}
    assert any("over the cap of 3 files" in r for r in left.values())
    assert any("page cap" in r for r in left.values())
    assert pack.omitted == manifest["left_out"]
    text = "".join(p.get_text() for p in pymupdf.open(local_path(pack.pdf.name)))
    assert "Left out of this pack" in text


def test_an_altered_stored_original_fails_the_pack_with_the_reason(exportable) -> None:
    owner, dispute = exportable
    image = dispute.claim_images.order_by("id").first()
    with default_storage.open(image.file.name) as fh:
        stored_bytes_replace(image.file.name, fh.read() + b"tampered")
    pack = services.evidence_pack_request(dispute=dispute, actor=owner.user)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.FAILED
    assert "no longer matches the hash recorded at upload" in pack.failure_reason
    assert not pack.archive and not pack.pdf


def test_only_the_merchants_people_export(exportable) -> None:
    _owner, dispute = exportable
    with pytest.raises(PermissionDenied):
        services.evidence_pack_request(dispute=dispute, actor=ReviewerFactory().user)
    assert not EvidencePack.objects.exists()


def test_a_pack_in_chinese(exportable) -> None:
    owner, dispute = exportable
    pack = services.evidence_pack_request(dispute=dispute, actor=owner.user, language="zh-hans")
    pack.refresh_from_db()
    text = pymupdf.open(local_path(pack.pdf.name))[0].get_text()
    assert "证据包" in text and "订单号" in text


def test_building_a_pack_leaves_upload_validation_strict(exportable) -> None:
    """WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES when imported; a worker that
    built a pack must still refuse truncated uploads afterwards."""
    from PIL import ImageFile

    from forensics.errors import MediaRejected
    from forensics.fingerprints import inspect_photo
    from tests import media_factories as mf

    owner, dispute = exportable
    build(dispute, owner.user)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(MediaRejected, match="damaged or truncated"):
        damaged = mf.truncated_jpeg(mf.noise(640, 480), keep=0.3)
        inspect_photo(io.BytesIO(damaged), max_pixels=10_000_000)


def test_a_near_copy_s_page_shows_the_original_beside_the_claim(near_copy_engine, exportable):
    owner, dispute = exportable
    pack = build(dispute, owner.user)
    text = "\n".join(page.get_text() for page in pymupdf.open(local_path(pack.pdf.name)))
    assert "Possibly the merchant's photo MUG-1 / mug-front.jpg" in text
    assert f"Same-photograph score {NEAR_COPY_THRESHOLD:.3f}" in text
    with zipfile.ZipFile(local_path(pack.archive.name)) as zf:
        names = set(zf.namelist())
    assert any(p.startswith("originals/reference-photos/") for p in names)
    assert any(p.endswith("aligned-original.jpg") for p in names)
    assert not any(p.endswith("difference-heatmap.png") for p in names)


#: Words that speak to the reader: a pack is read by an arbitrator or the police.
SPEAKS_TO_READER = re.compile(r"\byour\b|您的|你的", re.IGNORECASE)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_pack_speaks_of_the_merchants_evidence_never_to_its_reader(
    exportable, language: str
) -> None:
    owner, dispute = exportable
    pack = services.evidence_pack_request(dispute=dispute, actor=owner.user, language=language)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.READY, pack.failure_reason
    # Lines joined: a sentence may wrap anywhere on the page.
    text = " ".join(
        " ".join(page.get_text().split()) for page in pymupdf.open(local_path(pack.pdf.name))
    )
    with zipfile.ZipFile(local_path(pack.archive.name)) as zf:
        evidence = zf.read("evidence.json").decode()
        manifest = zf.read("manifest.json").decode()

    merchants_photo = {
        "en": "This is the merchant's photo MUG-1",
        "zh-hans": "这是商家的照片 MUG-1",
    }
    assert merchants_photo[language] in text
    said = SPEAKS_TO_READER.search(text)
    assert said is None, text[max(0, said.start() - 120) : said.end() + 40]
    assert not SPEAKS_TO_READER.search(json.loads(evidence)["uncategorized_text"])
    assert "Merchant's listing photo mug-front.jpg" in manifest
    assert not SPEAKS_TO_READER.search(manifest)


@pytest.mark.parametrize("external_id", ["TB-1\\", 'TB-2"; } body { display: none } x {'])
def test_a_dispute_id_cannot_break_the_pdf_footer(exportable, external_id) -> None:
    """The id reaches the footer as text, never inside the style sheet: an id ending in a
    backslash or holding CSS keeps the footer on every page."""
    from disputes.models import Dispute

    owner, dispute = exportable
    Dispute.objects.filter(pk=dispute.pk).update(external_id=external_id)
    dispute.refresh_from_db()
    pdf = pymupdf.open(local_path(build(dispute, owner.user).pdf.name))
    for page in pdf:
        assert f"RefundGuard · Taobao {external_id}" in page.get_text(), page.number
