"""The review desk in Simplified Chinese on a phone-width screen, and on a laptop:
every page fits its width (no sideways scrolling) and speaks the reader's language."""

from __future__ import annotations

import pytest

from disputes import services
from disputes.evidence_index import forget
from tests.browser.conftest import screenshot
from tests.browser.test_evidence_pages import login
from tests.disputes.factories import scored_dispute
from tests.disputes.fixtures import doctored, jpeg_bytes, open_dispute, reference_photo, sample
from tests.factories import MembershipFactory, ProductFactory, ReviewerFactory

pytestmark = [pytest.mark.browser]

FITS = "() => document.scrollingElement.scrollWidth <= window.innerWidth + 1"


@pytest.fixture
def analysed(transactional_db):
    forget()
    membership = MembershipFactory(user__username="shop-owner")
    product = ProductFactory(merchant=membership.merchant, sku="MUG-1")
    reference_photo(product, sample("coffee"), "mug-front.jpg")
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(
        membership.merchant, [(jpeg_bytes(claim), "IMG_2001.jpg")], external_id="TB-ZH-1"
    )
    for image in dispute.claim_images.all():
        services.claim_image_analyze(claim_image_id=image.pk)
    scored_dispute("low", merchant=membership.merchant, external_id="TB-ZH-2")
    return dispute


@pytest.mark.parametrize("width", [390, 1280])
def test_queue_and_dispute_in_chinese_fit_the_screen(page, live_server, analysed, width):
    ReviewerFactory(user__username="agent-zh")
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, "agent-zh", lands_on="/disputes/queue/")
    page.click("button:has-text('中文')")
    page.wait_for_selector("h1:has-text('审核队列')")
    assert page.locator(".queue-row").first.locator(".risk-high").inner_text() == "高风险"
    assert page.evaluate(FITS), "the queue scrolls sideways"
    screenshot(page, f"review-queue-zh-{width}")
    page.click("text=TB-ZH-1")
    page.wait_for_selector("#notes")
    text = page.inner_text("main")
    assert "内部备注" in text and "买家争议记录" in text and "这是您的照片" in text
    assert page.evaluate(FITS), "the dispute page scrolls sideways"
    screenshot(page, f"review-dispute-zh-{width}")
