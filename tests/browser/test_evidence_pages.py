"""The merchant's journey through the evidence pages in a real browser, with a real
Celery worker fingerprinting what the browser uploads."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from evidence import services
from evidence.models import ReferencePhoto
from tests.browser.conftest import screenshot
from tests.evidence.test_services import jpeg, mp4
from tests.factories import PASSWORD, MembershipFactory, ProductFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
]


def login(page, live_server, username: str, lands_on: str = "/evidence/") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server.url}{lands_on}")


def test_merchant_uploads_several_photos_and_sees_each_result(
    page, live_server, celery_worker_process, tmp_path: Path
):
    membership = MembershipFactory(user__username="shopkeeper")
    product = ProductFactory(merchant=membership.merchant, sku="MUG-1", title="Coffee mug")
    files = {
        "front.jpg": jpeg("coffee"),
        "rocket.jpg": jpeg("rocket"),
        "copy-of-front.jpg": jpeg("coffee"),
        "invoice.jpg": b"%PDF-1.4 not an image",
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))

    login(page, live_server, "shopkeeper")
    page.click("text=MUG-1")
    page.wait_for_load_state()  # the page's deferred scripts have run
    page.set_input_files("#photo-files", paths)
    results = page.locator("#upload-results li")
    results.nth(3).wait_for()
    page.wait_for_function("() => !document.querySelector('#upload-results .result-uploading')")
    text = {results.nth(i).inner_text() for i in range(4)}
    assert any("front.jpg" in t and "stored" in t for t in text)
    assert any("copy-of-front.jpg" in t and "duplicate" in t for t in text)
    assert any("invoice.jpg" in t and "rejected" in t and "not a JPEG" in t for t in text)
    # Each stored photo's card shows its size and SHA-256 at once, as a reload would.
    front = ReferencePhoto.objects.get(product=product, original_name="front.jpg")
    facts = page.locator(f'#photo-grid [data-photo-id="{front.pk}"] .photo-facts').inner_text()
    assert f"{front.width}×{front.height} · " in facts and facts.endswith(front.sha256[:12])
    assert "KB" in facts
    # The worker fingerprints both stored photos; the page shows their thumbnails.
    page.wait_for_function(
        "() => document.querySelectorAll('#photo-grid .photo img').length === 2", timeout=60_000
    )
    assert set(ReferencePhoto.objects.filter(product=product).values_list("status", flat=True)) == {
        "fingerprinted"
    }
    screenshot(page, "evidence-product-upload")


def test_packing_video_page_shows_keyframes_and_language_switch(
    page, live_server, celery_worker_process, settings
):
    membership = MembershipFactory(user__username="packer")
    services.video_ingest(
        merchant=membership.merchant,
        order_ref="ORDER-42",
        upload=ContentFile(mp4(seconds=6), name="ORDER-42.mp4"),
        filename="ORDER-42.mp4",
        uploader=membership.user,
    )
    login(page, live_server, "packer")
    page.click("text=Packing videos")
    page.click("text=ORDER-42")
    page.wait_for_selector(".keyframe-strip img", timeout=60_000)
    assert page.locator(".timestamp").first.inner_text() == "0.0 s"
    screenshot(page, "evidence-video-keyframes")
    page.click("button[value=zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    assert "关键帧" in page.content()
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "evidence-video-keyframes-zh-phone")


def test_packing_video_upload_shows_progress_result_and_refusals(
    page, live_server, celery_worker_process, tmp_path: Path
):
    MembershipFactory(user__username="packer2")
    (tmp_path / "ORDER-7.mp4").write_bytes(mp4(seconds=3))
    (tmp_path / "fake.mp4").write_bytes(b"not a video at all")
    login(page, live_server, "packer2")
    page.click("text=Packing videos")
    page.wait_for_load_state()

    page.fill("input[name=order_ref]", "ORDER-7")
    page.set_input_files("input[name=file]", str(tmp_path / "fake.mp4"))
    page.click("#video-upload button[type=submit]")
    error = page.locator("#video-errors")
    error.wait_for()
    assert "not a video we can read" in error.inner_text()
    # Refused in place: the form (and its script) still work for the next try.
    page.set_input_files("input[name=file]", str(tmp_path / "ORDER-7.mp4"))
    page.click("#video-upload button[type=submit]")
    page.wait_for_url("**/evidence/videos/*/")
    assert "Video stored; keyframes are being extracted." in page.content()

    page.click("text=Packing videos")
    page.fill("input[name=order_ref]", "ORDER-8")
    page.set_input_files("input[name=file]", str(tmp_path / "ORDER-7.mp4"))
    page.click("#video-upload button[type=submit]")
    page.wait_for_selector("text=already stored (order ORDER-7)")


def test_photos_chosen_before_the_page_script_loaded_are_still_uploaded(
    page, live_server, celery_worker_process, tmp_path: Path
):
    """On a slow connection a merchant can pick files before the deferred upload script
    has run (its change event is missed); the script sends them when it starts."""
    membership = MembershipFactory(user__username="slow-line")
    ProductFactory(merchant=membership.merchant, sku="MUG-1", title="Coffee mug")
    (tmp_path / "front.jpg").write_bytes(jpeg("coffee"))
    login(page, live_server, "slow-line")
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.click("text=MUG-1")
    page.set_input_files("#photo-files", str(tmp_path / "front.jpg"))  # before the script
    page.wait_for_selector("#upload-results li.result-stored", timeout=60_000)
    assert ReferencePhoto.objects.filter(merchant=membership.merchant).count() == 1
