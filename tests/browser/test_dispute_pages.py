"""A merchant opens a dispute with a doctored claim photo in a real browser; a real
worker analyses it; the page updates by itself, shows the region, and the merchant
rejects the claim with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from disputes.evidence_index import forget
from disputes.models import Dispute
from tests.browser.conftest import screenshot
from tests.browser.test_evidence_pages import login
from tests.disputes.fixtures import doctored, jpeg_bytes, reference_photo, sample
from tests.factories import MembershipFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_doctored_claim_is_flagged_on_the_page_and_rejected(
    page, live_server, celery_worker_process, tmp_path: Path
):
    forget()
    membership = MembershipFactory(user__username="merchant")
    product = ProductFactory(merchant=membership.merchant, sku="MUG-1", title="Coffee cup")
    reference_photo(product, sample("coffee"), "mug-front.jpg")
    claim, _ = doctored(sample("coffee"))
    claim_path = tmp_path / "IMG_0001.jpg"
    claim_path.write_bytes(jpeg_bytes(claim))

    login(page, live_server, "merchant")
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
    assert page.locator(".region").count() == 1
    assert "mug-front.jpg" in page.locator(".reasons").inner_text()
    heatmap = page.locator(".heatmap")
    assert heatmap.is_visible()
    page.uncheck(".heatmap-toggle")
    assert not heatmap.is_visible()
    page.check(".heatmap-toggle")
    screenshot(page, "dispute-doctored-claim")

    page.check("input[value=claim_rejected]")
    page.fill("textarea[name=note]", "The photo is our listing photo with painted cracks.")
    page.click("button:has-text('Record decision')")
    page.wait_for_selector(".badge-claim_rejected")
    assert Dispute.objects.get(external_id="PDD-20261125-1").status == "claim_rejected"
    assert "dispute.decided" in page.locator(".timeline").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "dispute-decided-phone")
