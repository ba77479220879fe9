"""The dispute page while its photos are analysed, in a real browser: the risk chip and the
audit trail change when the analysis completes, without a reload; a small claim photo is
shown at its own size, not blown up to the column's width."""

from __future__ import annotations

import pytest

from disputes import services
from disputes.evidence_index import forget
from tests.browser.conftest import screenshot
from tests.browser.test_evidence_pages import login
from tests.disputes.fixtures import doctored, jpeg_bytes, open_dispute, reference_photo, sample
from tests.factories import MembershipFactory, ProductFactory

pytestmark = [pytest.mark.browser]


def test_the_risk_chip_and_audit_trail_follow_the_analysis_live(
    page, live_server, transactional_db, monkeypatch
):
    forget()
    membership = MembershipFactory(user__username="live-merchant")
    product = ProductFactory(merchant=membership.merchant, sku="MUG-1")
    reference_photo(product, sample("coffee"), "mug-front.jpg")
    claim, _ = doctored(sample("coffee"))
    small = sample("astronaut").resize((120, 90))
    # The photos wait, unanalysed, until the page is open (no worker in this test).
    monkeypatch.setattr("disputes.services.enqueue_on_commit", lambda task, object_id: None)
    dispute = open_dispute(
        membership.merchant,
        [(jpeg_bytes(claim), "IMG_3001.jpg"), (jpeg_bytes(small), "IMG_3002.jpg")],
        external_id="TB-LIVE-1",
    )

    login(page, live_server, "live-merchant")
    page.goto(f"{live_server.url}/disputes/{dispute.pk}/")
    page.wait_for_load_state()  # app.js is polling
    assert page.locator("#dispute-risk .risk").count() == 0
    assert "Photo analysed" not in page.inner_text("#audit-trail")
    page.evaluate("() => { window.notReloaded = true; }")

    for image in dispute.claim_images.order_by("id"):
        services.claim_image_analyze(claim_image_id=image.pk)

    page.wait_for_selector("#dispute-risk .risk-high", timeout=30_000)
    assert page.inner_text("#dispute-risk") == "High risk"
    page.wait_for_function(
        "() => document.querySelector('#audit-trail').innerText.split('Photo analysed')"
        ".length === 3"
    )
    assert page.locator("#dispute-status").inner_text() == "Needs review"
    assert page.evaluate("() => window.notReloaded === true")

    # The small photo at its own 120 px; the large one fills its column, no wider.
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.claim-photo')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    photos = page.locator("img.claim-photo")
    large, tiny = photos.nth(0).bounding_box(), photos.nth(1).bounding_box()
    assert round(tiny["width"]) == 120 and round(tiny["height"]) == 90
    column = page.locator(".claim .compare figure").first.bounding_box()
    assert large["width"] <= column["width"] + 1
    # The heatmap and the changed-region box lie on the photo, not beside it.
    frame = page.locator(".claim .overlay-frame").first.bounding_box()
    assert abs(frame["width"] - large["width"]) <= 1
    screenshot(page, "dispute-live-analysed")
