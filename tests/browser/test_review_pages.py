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


def analysed_coffee_dispute(external_id: str):  # type: ignore[no-untyped-def]
    """A merchant with a coffee listing photo and a dispute over a doctored copy of it,
    analysed in this process (with whatever engine the test has set up)."""
    forget()
    membership = MembershipFactory()
    product = ProductFactory(merchant=membership.merchant, sku="MUG-1")
    reference_photo(product, sample("coffee"), "mug-front.jpg")
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(
        membership.merchant, [(jpeg_bytes(claim), "IMG_2001.jpg")], external_id=external_id
    )
    for image in dispute.claim_images.all():
        services.claim_image_analyze(claim_image_id=image.pk)
    return dispute


@pytest.fixture
def analysed(transactional_db):
    dispute = analysed_coffee_dispute("TB-ZH-1")
    scored_dispute("low", merchant=dispute.merchant, external_id="TB-ZH-2")
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
    assert "内部备注" in text and "买家争议记录" in text and "这是商家的照片" in text
    assert page.evaluate(FITS), "the dispute page scrolls sideways"
    screenshot(page, f"review-dispute-zh-{width}")


def test_a_near_copy_is_shown_beside_its_original_for_the_reviewer(
    page, live_server, transactional_db, near_copy_engine
):
    analysed_coffee_dispute("TB-NEAR-1")
    ReviewerFactory(user__username="agent-near")

    login(page, live_server, "agent-near", lands_on="/disputes/queue/")
    row = page.locator(".queue-row", has_text="TB-NEAR-1")
    assert "Medium risk" in row.inner_text()
    row.locator("a", has_text="TB-NEAR-1").click()
    card = page.locator(".claim").first
    card.wait_for()
    assert "Possibly the merchant's photo MUG-1 / mug-front.jpg" in card.inner_text()
    # The claim and the original turned and scaled like it, side by side, both loaded.
    figures = card.locator(".compare figure img")
    assert figures.count() == 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('.claim .compare figure img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    boxes = [figures.nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1  # beside, not below
    assert card.locator(".region").count() == 0  # no changed region is claimed
    screenshot(page, "review-near-copy")
