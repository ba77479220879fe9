"""The main journey in a real browser with a real worker: a merchant uploads evidence
and a dispute with a doctored claim photo arrives; a support reviewer finds it at the top
of the queue, opens it, looks at the heatmap beside the aligned original, and rejects it
with a reason; the merchant sees the outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from disputes.evidence_index import forget
from disputes.models import Dispute
from tests.browser.conftest import screenshot
from tests.browser.test_evidence_pages import login
from tests.disputes.factories import scored_dispute
from tests.disputes.fixtures import doctored, jpeg_bytes, sample
from tests.factories import MembershipFactory, ProductFactory, ReviewerFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
]


def test_doctored_claim_reaches_the_top_of_the_queue_and_is_rejected(
    browser, page, live_server, celery_worker_process, tmp_path: Path
):
    forget()
    membership = MembershipFactory(user__username="merchant")
    merchant = membership.merchant
    ProductFactory(merchant=merchant, sku="MUG-1", title="Coffee cup")
    ReviewerFactory(user__username="agent")
    # Other disputes already waiting: the doctored one must overtake them.
    scored_dispute("medium", merchant=merchant, external_id="TB-OLD-MEDIUM")
    scored_dispute("low", merchant=merchant, external_id="TB-OLD-LOW")
    listing = tmp_path / "mug-front.jpg"
    listing.write_bytes(jpeg_bytes(sample("coffee")))
    claim, _ = doctored(sample("coffee"))
    claim_path = tmp_path / "IMG_0001.jpg"
    claim_path.write_bytes(jpeg_bytes(claim))

    # The merchant files the listing photo in the evidence library.
    login(page, live_server, "merchant")
    page.click("text=MUG-1")
    page.wait_for_load_state()  # the page's deferred scripts have run
    page.set_input_files("#photo-files", str(listing))
    page.wait_for_function(
        "() => document.querySelectorAll('#photo-grid .photo img').length === 1", timeout=60_000
    )

    # The buyer's claim arrives; the merchant opens the dispute with the buyer's photo.
    page.click("nav >> text=Disputes")
    page.click("text=Open a dispute")
    page.select_option("select[name=platform]", "pinduoduo")
    page.fill("input[name=external_id]", "PDD-20261125-1")
    page.fill("input[name=order_ref]", "ORDER-77")
    page.fill("input[name=buyer_ref]", "pdd_buyer_1")
    page.select_option("select[name=claim_type]", "refund_only")
    page.fill("textarea[name=reason]", "Cup arrived cracked")
    page.fill("input[name=amount]", "89.00")
    page.set_input_files("input[name=photos]", str(claim_path))
    page.click("button:has-text('Open dispute')")
    # Live progress: the claim card turns into a verdict without a manual reload.
    page.wait_for_selector(".claim .risk-high", timeout=60_000)
    assert page.locator("#dispute-status").inner_text() == "Needs review"
    # The header's risk chip and the audit trail followed, without a reload.
    assert page.inner_text("#dispute-risk") == "High risk"
    assert "Photo analysed" in page.inner_text("#audit-trail")
    assert page.locator("#decision-form").count() == 0  # merchants do not decide
    page.fill("textarea[name=text]", "This is our own listing photo, painted over.")
    page.click("button:has-text('Save statement')")
    page.wait_for_selector("text=Statement saved.")

    # The support reviewer, in their own browser session.
    agent = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = agent.new_page()
    desk.set_default_timeout(60_000)
    login(desk, live_server, "agent", lands_on="/disputes/queue/")
    rows = desk.locator(".queue-row")
    assert rows.count() == 3
    first = rows.first.inner_text()
    assert "PDD-20261125-1" in first and "High risk" in first and "89.00 CNY" in first
    assert "mug-front.jpg" in first  # the top reason, in one line
    assert desk.locator(".queue-row").first.locator(".queue-thumb img").is_visible()
    screenshot(desk, "review-queue")
    rows.first.locator("a >> text=PDD-20261125-1").click()
    desk.wait_for_load_state()  # app.js (slider, toggle) has run

    # Claim and aligned original side by side, heatmap strength and region box toggles.
    desk.wait_for_selector(".heatmap")
    heatmap = desk.locator(".heatmap")
    assert heatmap.is_visible()
    assert desk.locator("img.aligned").is_visible()
    desk.wait_for_function("() => document.querySelector('img.aligned').naturalWidth > 0")
    assert desk.locator(".region").count() == 2
    desk.locator(".heatmap-opacity").fill("0")
    assert desk.locator(".heatmap").evaluate("el => getComputedStyle(el).opacity") == "0"
    desk.locator(".heatmap-opacity").fill("80")
    desk.uncheck(".region-toggle")
    assert not desk.locator(".region").first.is_visible()
    desk.check(".region-toggle")
    assert "This is our own listing photo, painted over." in desk.inner_text("#statement")
    screenshot(desk, "review-dispute-heatmap")

    # Rejecting needs a reason.
    desk.check("input[value=reject]")
    desk.click("button:has-text('Record decision')")
    desk.wait_for_selector("text=Say why the claim is rejected.")
    desk.check("input[value=reject]")
    desk.fill("textarea[name=note]", "The photo is our listing photo with painted cracks.")
    desk.click("button:has-text('Record decision')")
    desk.wait_for_selector(".badge-claim_rejected")
    assert Dispute.objects.get(external_id="PDD-20261125-1").status == "claim_rejected"
    assert "Decision recorded" in desk.locator(".timeline").inner_text()
    desk.fill("#notes textarea", "Buyer used our Taobao listing photo.")
    desk.click("button:has-text('Add note')")
    desk.wait_for_selector("text=Note added.")
    agent.close()

    # The merchant sees the outcome (and not the internal note), on a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.locator("#dispute-status").inner_text() == "Decided: claim rejected"
    assert "The photo is our listing photo with painted cracks." in page.inner_text("#decision")
    assert "Buyer used our Taobao listing photo." not in page.content()
    screenshot(page, "dispute-decided-merchant-phone")

    # The merchant exports the evidence pack: the worker builds it while the page shows
    # its progress, then both downloads appear without a reload.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("#pack-export")
    page.wait_for_selector("text=The evidence pack is being built")
    page.wait_for_selector("#packs a:has-text('ZIP archive')", timeout=90_000)
    with page.expect_download() as download:
        page.click("#packs a:has-text('PDF report')")
    assert download.value.suggested_filename.endswith(".pdf")
    screenshot(page, "dispute-evidence-pack")
