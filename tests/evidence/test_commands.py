"""The bulk import command (the demo loader: tests/disputes/test_seed_demo.py)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from evidence.models import PackingVideo, Product, ReferencePhoto
from tests import media_factories as mf
from tests.evidence.test_services import jpeg, mp4
from tests.factories import MerchantFactory


def run_import(folder, slug: str, *extra: str) -> str:
    out = io.StringIO()
    call_command(
        "import_evidence", str(folder), "--merchant", slug, *extra, stdout=out, verbosity=0
    )
    return out.getvalue()


@pytest.fixture
def evidence_folder(tmp_path):
    root = tmp_path / "import"
    (root / "MUG-1").mkdir(parents=True)
    (root / "MUG-1" / "front.jpg").write_bytes(jpeg("coffee"))
    (root / "MUG-1" / "side.jpg").write_bytes(jpeg("coffee", size=(300, 200)))
    (root / "ROCKET").mkdir()
    (root / "ROCKET" / "box.jpg").write_bytes(jpeg("rocket"))
    (root / "ROCKET" / "notes.jpg").write_bytes(b"<html>not a photo</html>")
    (root / "ORDER-77.mp4").write_bytes(mp4())
    (root / "readme.txt").write_text("hello")
    return root


@pytest.mark.django_db
def test_import_stores_photos_per_sku_and_videos_per_order(evidence_folder):
    merchant = MerchantFactory()
    output = run_import(evidence_folder, merchant.slug, "--now")
    assert set(Product.objects.filter(merchant=merchant).values_list("sku", flat=True)) == {
        "MUG-1",
        "ROCKET",
    }
    assert ReferencePhoto.objects.filter(merchant=merchant).count() == 3
    assert set(ReferencePhoto.objects.values_list("status", flat=True)) == {"fingerprinted"}
    video = PackingVideo.objects.get(merchant=merchant)
    assert (video.order_ref, video.status) == ("ORDER-77", "ready")
    assert "rejected ROCKET/notes.jpg" in output
    assert "skipped readme.txt" in output
    assert "photos         3          0         1" in output


@pytest.mark.django_db
def test_import_is_safe_to_rerun(evidence_folder):
    merchant = MerchantFactory()
    run_import(evidence_folder, merchant.slug)
    output = run_import(evidence_folder, merchant.slug)
    assert ReferencePhoto.objects.count() == 3
    assert PackingVideo.objects.count() == 1
    assert "photos         0          3         1" in output
    assert "videos         0          1         0" in output


@pytest.mark.django_db
def test_import_refuses_unknown_merchant_and_missing_folder(tmp_path):
    with pytest.raises(CommandError, match="No merchant"):
        run_import(tmp_path, "nobody")
    with pytest.raises(CommandError, match="not a folder"):
        run_import(tmp_path / "missing", MerchantFactory().slug)


@pytest.mark.django_db
def test_import_takes_avif_photos_and_names_what_it_refuses(tmp_path):
    root = tmp_path / "import"
    (root / "MUG-1").mkdir(parents=True)
    (root / "MUG-1" / "front.avif").write_bytes(mf.avif_bytes(mf.coffee()))
    (root / "MUG-1" / "animated.gif").write_bytes(mf.gif_bytes(mf.coffee()))
    (root / "MUG-1" / "scan.tif").write_bytes(mf.tiff_bytes(mf.coffee()))
    merchant = MerchantFactory()

    output = run_import(root, merchant.slug, "--now")

    photo = ReferencePhoto.objects.get(merchant=merchant)
    assert (photo.content_type, photo.status) == ("image/avif", "fingerprinted")
    assert "rejected MUG-1/animated.gif: GIF images are not accepted: send a JPEG" in output
    assert "rejected MUG-1/scan.tif: TIFF images are not accepted" in output
