"""A buyer's other disputes, read for the analysis and the pages: listed for this
merchant (by the caller's selector), counted only across every merchant."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Q

from disputes.buyers import buyer_key
from disputes.models import Dispute
from forensics.signals import BuyerCounts, RepeatClaimantRule


def dispute_buyer_key(*, platform: str, buyer_ref: str) -> str:
    """The dispute's buyer key under this deployment's secret."""
    return buyer_key(platform=platform, buyer_ref=buyer_ref, secret=settings.REFUNDGUARD_BUYER_KEY)


def buyer_counts(dispute: Dispute) -> BuyerCounts:
    """How many other disputes the same buyer opened up to this one: with this merchant,
    across all merchants, and of those how many were flagged high risk or rejected.

    Numbers only — never another merchant's rows — so it is safe to show anyone who may
    read ``dispute``."""
    if not dispute.buyer_key:
        return BuyerCounts()
    others = Dispute.objects.filter(
        buyer_key=dispute.buyer_key, opened_at__lte=dispute.opened_at
    ).exclude(pk=dispute.pk)
    totals = others.aggregate(
        all_merchants=Count("pk"),
        with_merchant=Count("pk", filter=Q(merchant_id=dispute.merchant_id)),
        high_risk=Count("pk", filter=Q(risk_level="high")),
        rejected=Count("pk", filter=Q(status=Dispute.Status.CLAIM_REJECTED)),
    )
    return BuyerCounts(**{k: int(v or 0) for k, v in totals.items()})


def repeat_claimant_rule() -> RepeatClaimantRule:
    """The thresholds configured for this deployment."""
    return RepeatClaimantRule(
        min_disputes=settings.REPEAT_CLAIMANT_MIN_DISPUTES,
        min_flagged_or_rejected=settings.REPEAT_CLAIMANT_MIN_FLAGGED,
    )
