"""Buyer history: the keyed buyer id, counts across merchants (numbers only) and the
"repeat claimant" finding, which never makes a claim high risk on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from disputes.buyer_history import buyer_counts, dispute_buyer_key
from disputes.buyers import buyer_key, buyer_ref_normalise
from disputes.models import Dispute, Finding
from forensics.scoring import HIGH_SCORE, Signal, verdict
from forensics.signals import BuyerCounts, RepeatClaimantRule, repeat_claimant_signal
from tests.disputes.factories import DisputeFactory
from tests.disputes.fixtures import jpeg_bytes, open_dispute, reference_photo, sample
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory


def test_buyer_ids_typed_differently_are_one_buyer_per_platform() -> None:
    assert buyer_ref_normalise(" ＴＢ_Buyer 88 ") == "tb_buyer88"
    same = {
        buyer_key(platform="taobao", buyer_ref=r, secret="k") for r in ["TB_buyer88", "tb_buyer 88"]
    }
    assert len(same) == 1
    assert buyer_key(platform="jd", buyer_ref="tb_buyer88", secret="k") not in same
    assert buyer_key(platform="taobao", buyer_ref="tb_buyer88", secret="other") not in same
    assert buyer_key(platform="taobao", buyer_ref="   ", secret="k") == ""


def test_the_key_is_not_a_plain_hash_of_the_id() -> None:
    import hashlib

    key = buyer_key(platform="taobao", buyer_ref="b1", secret="k")
    assert len(key) == 64
    assert key != hashlib.sha256(b"taobao:b1").hexdigest()


@pytest.mark.parametrize(
    ("counts", "crossed"),
    [
        (BuyerCounts(all_merchants=2), False),
        (BuyerCounts(all_merchants=3), True),
        (BuyerCounts(all_merchants=2, rejected=2), True),
        (BuyerCounts(all_merchants=2, high_risk=1, rejected=1), False),
    ],
)
def test_repeat_claimant_rule(counts: BuyerCounts, crossed: bool) -> None:
    rule = RepeatClaimantRule(min_disputes=3, min_flagged_or_rejected=2)
    assert rule.crossed(counts) is crossed
    assert (repeat_claimant_signal(counts, rule) is not None) is crossed


def test_history_alone_never_makes_a_claim_high_risk() -> None:
    history = repeat_claimant_signal(
        BuyerCounts(all_merchants=40, with_merchant=3, high_risk=30, rejected=30),
        RepeatClaimantRule(),
    )
    assert history is not None
    editing = Signal("editing_software", 0.25, "Photoshop")
    reused = Signal("reused_image", 0.6, "seen before")
    for others in ([], [editing], [reused]):
        assert verdict([history, *others]).level != "high"
    # With image evidence that is flagged on its own, history adds to the score.
    derived = Signal("derived_from_original", 0.8, "your photo")
    assert verdict([derived, history]).score > verdict([derived]).score >= HIGH_SCORE


@pytest.mark.django_db
def test_counts_cover_every_merchant_but_name_none() -> None:
    mine, theirs = MerchantFactory(), MerchantFactory()
    common = {"platform": Dispute.Platform.TAOBAO, "buyer_ref": "tb_repeat"}
    DisputeFactory(merchant=mine, **common, status=Dispute.Status.CLAIM_REJECTED)
    DisputeFactory(merchant=theirs, **common, risk_level="high")
    DisputeFactory(merchant=theirs, **common, status=Dispute.Status.CLAIM_REJECTED)
    DisputeFactory(merchant=theirs, platform=Dispute.Platform.JD, buyer_ref="tb_repeat")
    current = DisputeFactory(merchant=mine, platform="taobao", buyer_ref="TB_Repeat ")
    counts = buyer_counts(current)
    assert counts == BuyerCounts(with_merchant=1, all_merchants=3, high_risk=1, rejected=2)


@pytest.mark.django_db
def test_dispute_page_and_queue_show_the_buyers_history(client) -> None:
    from core.models import Reviewer

    membership = MembershipFactory()
    other = MerchantFactory(name="Other shop Ltd")
    DisputeFactory(merchant=membership.merchant, buyer_ref="b-7", external_id="TB-EARLIER")
    DisputeFactory(
        merchant=other, buyer_ref="b-7", external_id="TB-SECRET", status="claim_rejected"
    )
    current = DisputeFactory(merchant=membership.merchant, buyer_ref="b-7")
    client.force_login(membership.user)
    page = client.get(reverse("disputes:detail", args=[current.pk])).content.decode()
    assert "TB-EARLIER" in page
    assert "TB-SECRET" not in page and "Other shop Ltd" not in page
    assert (
        "Before this dispute, across all merchants: 2 other disputes by this buyer, "
        "0 flagged high risk, 1 rejected." in page
    )

    staff = MembershipFactory().user
    Reviewer.objects.create(user=staff, all_merchants=True)
    client.force_login(staff)
    queue = client.get(reverse("disputes:queue")).content.decode()
    assert "other disputes: 1 here, 2 across all merchants" in queue


@pytest.mark.django_db(transaction=True)
def test_analysis_adds_a_repeat_claimant_finding_with_counts(media_root, settings) -> None:
    settings.REPEAT_CLAIMANT_MIN_DISPUTES = 2
    merchant = MembershipFactory().merchant
    reference_photo(ProductFactory(merchant=merchant), sample("coffee"))
    DisputeFactory(merchant=MerchantFactory(), buyer_ref="pdd-55", platform="taobao")
    DisputeFactory(merchant=merchant, buyer_ref="pdd-55", platform="taobao")
    honest = jpeg_bytes(sample("astronaut"))  # matches none of the merchant's evidence
    dispute = open_dispute(merchant, [(honest, "claim.jpg")], buyer_ref="PDD-55")
    assert dispute.buyer_key == dispute_buyer_key(platform="taobao", buyer_ref="pdd-55")
    finding = Finding.objects.get(claim_image__dispute=dispute, code="repeat_claimant")
    assert finding.evidence["disputes_all_merchants"] == 2
    assert finding.evidence["disputes_with_you"] == 1
    dispute.refresh_from_db()
    assert dispute.risk_level != "high"


@pytest.mark.django_db
def test_the_dispute_page_lists_the_disputes_its_counts_count(client) -> None:
    membership = MembershipFactory()
    earlier = DisputeFactory(merchant=membership.merchant, buyer_ref="b-8", external_id="TB-1")
    later = DisputeFactory(
        merchant=membership.merchant,
        buyer_ref="b-8",
        external_id="TB-2",
        opened_at=earlier.opened_at + timedelta(days=1),
    )
    client.force_login(membership.user)

    first = client.get(reverse("disputes:detail", args=[earlier.pk])).content.decode()
    second = client.get(reverse("disputes:detail", args=[later.pk])).content.decode()

    assert "TB-2" not in first and "No earlier disputes from this buyer." in first
    assert "0 other disputes by this buyer" in first
    assert "TB-1" in second and "1 other dispute by this buyer" in second
