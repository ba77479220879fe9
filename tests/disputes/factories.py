"""factory-boy factories for dispute rows (no image analysis: for queue and role tests),
and engine results made up for the scoring rules."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from disputes.buyer_history import dispute_buyer_key
from disputes.models import RISK_RANK, ClaimImage, Dispute, Finding
from forensics.matching import ClaimMatch
from tests.factories import MerchantFactory


class DisputeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dispute

    merchant = factory.SubFactory(MerchantFactory)
    platform = Dispute.Platform.TAOBAO
    external_id = factory.Sequence(lambda n: f"TB-{n:05d}")
    order_ref = factory.Sequence(lambda n: f"ORD-{n:05d}")
    buyer_ref = factory.Sequence(lambda n: f"buyer-{n}")
    buyer_key = factory.LazyAttribute(
        lambda d: dispute_buyer_key(platform=d.platform, buyer_ref=d.buyer_ref)
    )
    claim_type = Dispute.ClaimType.REFUND_ONLY
    reason = "Arrived broken"
    amount = "99.00"
    currency = "CNY"
    opened_at = factory.LazyFunction(timezone.now)
    respond_by = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    status = Dispute.Status.NEEDS_REVIEW
    risk_level = ""
    risk_rank = factory.LazyAttribute(lambda d: RISK_RANK[d.risk_level])


class ClaimImageFactory(factory.django.DjangoModelFactory):
    """A claim-image row whose files are never read (queue rendering only)."""

    class Meta:
        model = ClaimImage

    dispute = factory.SubFactory(DisputeFactory)
    merchant = factory.LazyAttribute(lambda c: c.dispute.merchant)
    file = factory.Sequence(lambda n: f"originals/claims/{n}.jpg")
    original_name = "claim.jpg"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size_bytes = 1000
    content_type = "image/jpeg"
    width = 800
    height = 600
    analysis_status = ClaimImage.Status.ANALYSED
    thumbnail = ""


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    claim_image = factory.SubFactory(ClaimImageFactory)
    code = "no_match"
    weight = 0.2
    message = "No match with your evidence."
    evidence = factory.LazyFunction(dict)


def scored_dispute(level: str, *, thumbnail: str = "", **fields: object) -> Dispute:
    """A dispute whose analysis found ``level`` risk on one photo, as the queue shows it."""
    dispute = DisputeFactory(risk_level=level, **fields)
    finding = FindingFactory(claim_image__dispute=dispute, claim_image__thumbnail=thumbnail)
    dispute.top_claim_image = finding.claim_image
    dispute.top_finding = finding
    dispute.save(update_fields=["top_claim_image", "top_finding"])
    return dispute


def a_claim_match(
    *, score: float, derived: bool, region: tuple[int, int, int, int] = (10, 20, 30, 40)
) -> ClaimMatch:
    """An engine result for ``photo:12``, cropped into a screenshot, at ``score``."""
    return ClaimMatch(
        original_key="photo:12",
        method="features",
        hash_distance=18,
        inliers=140,
        same_photo_score=score,
        transforms=["cropped", "screenshot"] if derived else [],
        region=region if derived else None,
        heatmap=None,
        is_derived=derived,
    )
