"""A case whose evidence lives in a real S3-compatible server (SeaweedFS): the claim is
analysed from the bucket, the pack is built from it and downloaded, and the chain of
custody re-hashes the bucket's originals (and catches one swapped there)."""

from __future__ import annotations

import io
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from disputes.models import ClaimImage
from packs import services
from packs.models import EvidencePack
from tests.conftest import stored_bytes_replace, stored_names

pytestmark = [pytest.mark.s3, pytest.mark.usefixtures("object_storage")]


@pytest.fixture
def case(object_storage, exportable):  # type: ignore[no-untyped-def]
    """The ``exportable`` dispute, stored in the bucket (``object_storage`` comes first)."""
    return exportable


def test_the_claim_is_analysed_from_the_bucket(case, media_root: Path) -> None:
    _owner, dispute = case
    broken = dispute.claim_images.get(original_name="broken.jpg")
    assert broken.analysis_status == ClaimImage.Status.ANALYSED
    assert broken.risk_level == "high" and broken.region
    names = stored_names()
    assert broken.file.name in names and broken.heatmap.name in names
    assert list(media_root.rglob("*")) == []  # nothing on the local disk


def test_the_pack_is_built_from_the_bucket_and_served(case, client, tmp_path: Path) -> None:
    owner, dispute = case
    pack = services.evidence_pack_request(dispute=dispute, actor=owner.user)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.READY, pack.failure_reason
    assert {pack.pdf.name, pack.archive.name} <= set(stored_names("packs"))
    client.force_login(owner.user)
    response = client.get(reverse("packs:download", args=[pack.pk, "zip"]))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert len(data) == pack.archive_size
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None and "report.pdf" in zf.namelist()
    downloaded = tmp_path / "pack.zip"
    downloaded.write_bytes(data)
    out = StringIO()
    call_command("verify_pack", str(downloaded), stdout=out)
    assert "files match the manifest" in out.getvalue()


def test_custody_re_hashes_the_bucket_and_catches_a_swapped_original(case, capsys) -> None:
    _owner, dispute = case
    call_command("verify_custody", verbosity=0)
    assert "intact" in capsys.readouterr().out
    image = dispute.claim_images.get(original_name="other.jpg")
    with default_storage.open(image.file.name) as fh:
        data = bytearray(fh.read())
    data[len(data) // 2] ^= 0x01
    stored_bytes_replace(image.file.name, bytes(data))
    with pytest.raises(CommandError):
        call_command("verify_custody", verbosity=0)
    assert f"ALTERED  claim image {image.pk}" in capsys.readouterr().out
