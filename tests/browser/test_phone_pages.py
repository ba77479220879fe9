"""Every page fits a phone (390×844) without sideways scrolling, for the people who use
it, on a demo-like data set made by the real services: a dispute with two analysed claim
photos (one derived from the shop's photo, with its changed region and heatmap), the
order's packing video with keyframes, an evidence pack whose ZIP SHA-256 is in the audit
trail, API tokens and a webhook endpoint. The dispute page also fits a 1280 px window."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from api import services as api_services
from api.models import WebhookDelivery
from core.models import Merchant
from disputes.evidence_index import forget
from disputes.management.commands.seed_demo import DEMO_PASSWORD
from disputes.models import Dispute
from evidence.models import PackingVideo, Product
from packs.models import EvidencePack
from packs.services import evidence_pack_request
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The page's own width: anything wider than the window scrolls sideways.
WIDTH = "() => document.documentElement.scrollWidth"
# What sticks out past the window's right edge (named in the failure message).
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(el => !el.closest('.keyframe-strip'))
  .slice(0, 8)
  .map(el => [el.tagName.toLowerCase(), ...el.classList].join('.')
       + ' ' + Math.round(el.getBoundingClientRect().right))"""


@pytest.fixture
def demo(transactional_db, settings):
    """``seed_demo`` with its work done in-process (the test Celery is eager): photos
    fingerprinted, keyframes extracted, both claim photos analysed; then an evidence pack
    built, an API token, a webhook endpoint with a long URL and one failed delivery."""
    forget()
    call_command("seed_demo", stdout=io.StringIO())
    User = get_user_model()
    owner = User.objects.get(username="demo-owner")
    dispute = Dispute.objects.get(external_id="TB-DEMO-0001")
    assert [i.analysis_status for i in dispute.claim_images.order_by("pk")] == ["analysed"] * 2
    first = dispute.claim_images.order_by("pk").first()
    assert first is not None and first.region and first.heatmap and first.aligned_original
    assert PackingVideo.objects.get(order_ref="DEMO-1001").keyframes.exists()
    evidence_pack_request(dispute=dispute, actor=owner)
    assert EvidencePack.objects.get(dispute=dispute).status == "ready"
    merchant = Merchant.objects.get(slug="demo-shop")
    api_services.token_create(merchant=merchant, actor=owner, name="ERP sync (warehouse 2)")
    settings.WEBHOOK_ALLOW_PRIVATE = False
    endpoint = api_services.webhook_endpoint_create(
        merchant=merchant,
        actor=owner,
        url="https://93.184.216.34/integrations/refundguard/webhooks/disputes-and-decisions",
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="dispute.analysis_completed",
        payload={"dispute": dispute.pk},
        status=WebhookDelivery.Status.FAILED,
        attempts=8,
        last_status_code=502,
        last_error="Bad gateway from https://93.184.216.34/integrations/refundguard/webhooks",
    )
    return dispute


def login(page, live_server, username: str, lands_on: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server.url}{lands_on}")


class Fits:
    """Measures each page's width at the window's width (every page is measured, then
    the test fails naming all that scroll sideways and what sticks out)."""

    def __init__(self) -> None:
        self.measured: dict[str, tuple[int, int]] = {}
        self.too_wide: dict[str, str] = {}

    def check(self, page, name: str, width: int = PHONE["width"]) -> None:
        page.wait_for_load_state()  # deferred scripts (slider, toggles, uploads) have run
        page.wait_for_function(
            "() => [...document.images].filter(i => i.loading !== 'lazy').every(i => i.complete)"
        )
        screenshot(page, name)
        measured = page.evaluate(WIDTH)
        self.measured[name] = (measured, width)
        print(f"{name}: {measured} px wide in a {width} px window")
        if measured > width:
            self.too_wide[name] = f"{measured} px: {page.evaluate(OVERFLOWING)}"

    def verify(self) -> None:
        assert not self.too_wide, f"pages scroll sideways: {self.too_wide}"


@pytest.fixture
def fits() -> Fits:
    return Fits()


def assert_scrolls_inside(page, selector: str) -> None:
    """A strip wider than the screen scrolls inside its own box, within the window."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= 0
    assert box["x"] + box["width"] <= page.viewport_size["width"]


def test_every_merchant_page_fits_a_phone(browser, live_server, demo, fits):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)

    page.goto(f"{live_server.url}/accounts/login/")
    fits.check(page, "phone-login")
    login(page, live_server, "demo-owner", lands_on="/evidence/")
    fits.check(page, "phone-evidence-library")

    product = Product.objects.get(sku="MUG-001")
    page.goto(f"{live_server.url}/evidence/products/{product.pk}/")
    page.wait_for_selector("#photo-grid .photo img")
    fits.check(page, "phone-evidence-product")

    page.goto(f"{live_server.url}/evidence/videos/")
    fits.check(page, "phone-evidence-videos")
    video = PackingVideo.objects.get(order_ref="DEMO-1001")
    page.goto(f"{live_server.url}/evidence/videos/{video.pk}/")
    page.wait_for_selector(".keyframe-strip img")
    fits.check(page, "phone-evidence-video")
    assert_scrolls_inside(page, ".keyframe-strip")

    page.goto(f"{live_server.url}/disputes/")
    fits.check(page, "phone-disputes")
    page.goto(f"{live_server.url}/disputes/new/")
    fits.check(page, "phone-dispute-form")

    page.goto(f"{live_server.url}/disputes/{demo.pk}/")
    check_dispute_page(page, fits, "phone-dispute-merchant")
    assert page.locator("#packs .hash").count() == 1

    page.goto(f"{live_server.url}/settings/integrations/")
    page.fill("input[name=name]", "Order system (Taobao shop, warehouse 2)")
    page.click("button:has-text('Create token')")
    page.wait_for_selector("#new-token")
    fits.check(page, "phone-integrations")
    context.close()
    fits.verify()


def test_every_reviewer_page_fits_a_phone(browser, live_server, demo, fits):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    login(page, live_server, "demo-reviewer", lands_on="/disputes/queue/")
    assert page.locator(".queue-row").count() == 1
    fits.check(page, "phone-review-queue")
    page.click("text=TB-DEMO-0001")
    page.wait_for_selector("#notes")
    check_dispute_page(page, fits, "phone-dispute-reviewer")
    assert page.locator("#decision-form").is_visible()
    context.close()
    fits.verify()


@pytest.mark.parametrize(
    "username, lands_on", [("demo-owner", "/evidence/"), ("demo-reviewer", "/disputes/queue/")]
)
def test_the_dispute_page_fits_a_laptop_window(page, live_server, demo, fits, username, lands_on):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, username, lands_on=lands_on)
    page.goto(f"{live_server.url}/disputes/{demo.pk}/")
    fits.check(page, f"desktop-dispute-{username}", width=DESKTOP["width"])
    # Still side by side on a wide screen.
    figures = page.locator(".claim").first.locator(".compare figure")
    left, right = figures.nth(0).bounding_box(), figures.nth(1).bounding_box()
    assert left["x"] + left["width"] <= right["x"] + 1 and abs(left["y"] - right["y"]) < 2
    fits.verify()


def check_dispute_page(page, fits: Fits, name: str) -> None:
    """The dispute page on a phone: photos stacked, the overlay controls usable, the
    keyframe strip scrolling inside itself, long hashes wrapped."""
    page.wait_for_function("() => document.querySelector('img.aligned').naturalWidth > 0")
    for summary in page.locator("main details > summary").all():
        summary.click()  # the merchant's forms (more photos, more evidence) open too
    fits.check(page, name)
    claim = page.locator(".claim").first
    figures = claim.locator(".compare figure")
    assert figures.count() == 2
    top, below = figures.nth(0).bounding_box(), figures.nth(1).bounding_box()
    assert below["y"] >= top["y"] + top["height"] - 1, "the claim and the original are not stacked"
    # The heatmap slider and the region toggle are on screen and work by touch.
    slider = claim.locator(".heatmap-opacity")
    box = slider.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["width"] >= 120
    slider.fill("0")
    assert claim.locator(".heatmap").evaluate("el => getComputedStyle(el).opacity") == "0"
    slider.fill("55")
    toggle = claim.locator(".region-toggle")
    toggle.tap()
    assert not claim.locator(".region").first.is_visible()
    toggle.tap()
    assert claim.locator(".region").first.is_visible()
    assert_scrolls_inside(page, ".keyframe-strip")
    # The audit trail names the pack's ZIP SHA-256 in full, wrapped inside its card.
    trail = page.locator(".timeline")
    assert "ZIP SHA-256" in trail.inner_text()
    box = trail.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
