"""Dispute services through the real engine: open, analyse, find, decide, audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.audit import audit_chain_breaks
from core.models import AppendOnlyError, AuditEvent
from disputes import services
from disputes.models import ClaimImage, Dispute
from tests.conftest import stored_names
from tests.disputes.fixtures import (
    doctored,
    jpeg_bytes,
    open_dispute,
    png_with_aigc_label,
    reference_photo,
    sample,
)
from tests.factories import MembershipFactory, ProductFactory, ReviewerFactory
from tests.forensics.engine_images import paint_damage


@pytest.fixture
def shop(db):
    membership = MembershipFactory()
    product = ProductFactory(merchant=membership.merchant, sku="MUG-1")
    reference_photo(product, sample("coffee"), "mug-front.jpg")
    reference_photo(product, sample("rocket"), "rocket.jpg")
    return membership


def analyse_all(dispute: Dispute) -> list[ClaimImage]:
    for image in dispute.claim_images.all():
        services.claim_image_analyze(claim_image_id=image.pk)
    return list(dispute.claim_images.order_by("id"))


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / (aw * ah + bw * bh - inter)


@pytest.mark.django_db
def test_doctored_copy_of_own_photo_is_high_risk_with_region_and_heatmap(shop):
    claim, painted_box = doctored(sample("coffee"))
    dispute = open_dispute(shop.merchant, [(jpeg_bytes(claim), "broken.jpg")])
    assert dispute.status == Dispute.Status.ANALYSING
    (image,) = analyse_all(dispute)
    assert image.analysis_status == ClaimImage.Status.ANALYSED
    assert image.risk_level == "high"
    top = image.findings.first()
    assert top.code == "derived_from_original"
    assert "mug-front.jpg" in top.message
    assert top.evidence["original_kind"] == "photo"
    assert "cropped" in top.evidence["transforms"]
    assert iou(image.region, painted_box) >= 0.5
    assert default_storage.exists(image.heatmap.name)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.risk_level) == (Dispute.Status.NEEDS_REVIEW, "high")


@pytest.mark.django_db
def test_a_copy_at_the_originals_full_size_is_not_called_resized(shop):
    # The rocket (427x640) is stored whole and analysed at 512 px: the worker's index
    # carries its full size, so the same-size copy reads as edited only where painted.
    claim, _ = paint_damage(sample("rocket"), (200, 300))
    dispute = open_dispute(shop.merchant, [(jpeg_bytes(claim, quality=95), "broken.jpg")])
    (image,) = analyse_all(dispute)
    top = image.findings.first()
    assert top.code == "derived_from_original"
    assert "rocket.jpg" in top.message
    assert top.evidence["transforms"] == []


@pytest.mark.django_db
def test_a_near_copy_is_medium_risk_with_its_original_aligned_beside_it(shop, near_copy_engine):
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(shop.merchant, [(jpeg_bytes(claim), "broken.jpg")])
    (image,) = analyse_all(dispute)

    assert image.risk_level == "medium"
    finding = image.findings.get()
    assert finding.code == "near_copy"
    assert "Possibly your photo MUG-1 / mug-front.jpg" in finding.message
    assert finding.evidence["original_kind"] == "photo"
    assert finding.evidence["original_label"] == "MUG-1 / mug-front.jpg"
    assert image.region is None and not image.heatmap
    # The original warped into the claim's frame, for the side-by-side comparison.
    assert default_storage.exists(image.aligned_original.name)
    dispute.refresh_from_db()
    assert dispute.risk_level == "medium"


@pytest.mark.django_db
def test_unrelated_photo_matches_nothing_and_says_so(shop):
    dispute = open_dispute(shop.merchant, [(jpeg_bytes(sample("astronaut")), "photo.jpg")])
    (image,) = analyse_all(dispute)
    assert image.risk_level == "low"
    codes = list(image.findings.values_list("code", flat=True))
    assert codes == ["no_match"]
    assert "no match" in image.findings.get().message.lower()
    assert image.region is None and not image.heatmap


@pytest.mark.django_db
def test_ai_label_in_the_file_is_quoted(shop):
    data = png_with_aigc_label(sample("astronaut"))
    dispute = open_dispute(shop.merchant, [(data, "claim.png")])
    (image,) = analyse_all(dispute)
    finding = image.findings.get(code="ai_provenance")
    assert finding.evidence["field"] == "AIGC"
    assert "Label" in finding.evidence["value"]
    assert image.risk_level == "high"


@pytest.mark.django_db
def test_reused_picture_is_counted_without_revealing_other_merchants(shop):
    picture = jpeg_bytes(sample("astronaut"))
    first = open_dispute(shop.merchant, [(picture, "a.jpg")], external_id="D-1")
    analyse_all(first)
    other_shop = MembershipFactory().merchant
    elsewhere = open_dispute(other_shop, [(picture, "x.jpg")], external_id="X-1")
    analyse_all(elsewhere)
    again = open_dispute(shop.merchant, [(picture, "b.jpg")], external_id="D-2")
    (image,) = analyse_all(again)
    finding = image.findings.get(code="reused_image")
    assert finding.evidence["count"] == 2
    assert finding.evidence["other_merchants"] == 1
    assert [d["external_id"] for d in finding.evidence["same_merchant"]] == ["D-1"]
    assert "X-1" not in str(finding.evidence) and "X-1" not in finding.message


@pytest.mark.django_db
def test_analysis_is_idempotent(shop):
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(shop.merchant, [(jpeg_bytes(claim), "c.jpg")])
    (first,) = analyse_all(dispute)
    before = list(first.findings.values_list("code", "weight", "message"))
    (second,) = analyse_all(dispute)
    assert list(second.findings.values_list("code", "weight", "message")) == before


@pytest.mark.django_db
def test_a_bad_photo_refuses_the_whole_dispute_and_stores_nothing(shop):
    files_before = set(stored_names())
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(
            shop.merchant,
            [(jpeg_bytes(sample("coffee")), "ok.jpg"), (b"<?php echo 1; ?>", "evil.jpg")],
        )
    assert "evil.jpg" in " ".join(excinfo.value.messages)
    assert Dispute.objects.count() == 0 and ClaimImage.objects.count() == 0
    assert set(stored_names()) == files_before


@pytest.mark.django_db
def test_decisions_need_a_reviewer_a_reason_to_reject_and_are_audited(shop):
    dispute = open_dispute(shop.merchant, [(jpeg_bytes(sample("astronaut")), "a.jpg")])
    analyse_all(dispute)
    reviewer = ReviewerFactory().user
    with pytest.raises(PermissionDenied):  # the merchant does not decide its own dispute
        services.dispute_decide(
            dispute=dispute, actor=shop.user, outcome="refund_approved", note=""
        )
    with pytest.raises(ValidationError):
        services.dispute_decide(dispute=dispute, actor=reviewer, outcome="claim_rejected", note=" ")
    with pytest.raises(ValidationError):  # more evidence: from whom?
        services.dispute_decide(
            dispute=dispute, actor=reviewer, outcome="more_evidence", note="Send the video"
        )
    services.dispute_decide(
        dispute=dispute, actor=reviewer, outcome="claim_rejected", note="Listing photo, edited."
    )
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.CLAIM_REJECTED
    with pytest.raises(ValidationError, match="already been decided"):
        services.dispute_decide(dispute=dispute, actor=reviewer, outcome="refund_approved", note="")
    actions = list(AuditEvent.objects.filter(dispute=dispute).values_list("action", flat=True))
    assert actions == ["dispute.opened", "claim_image.analysed", "dispute.decided"]
    assert audit_chain_breaks() == []


@pytest.mark.django_db
def test_audit_events_are_append_only_and_tampering_breaks_the_chain(shop):
    open_dispute(shop.merchant, [(jpeg_bytes(sample("astronaut")), "a.jpg")])
    event = AuditEvent.objects.first()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    from tests.disputes.test_custody import _tamper

    _tamper(event, {})  # behind the model's back (and the PostgreSQL trigger's)
    assert audit_chain_breaks() == [event.pk]


@pytest.mark.django_db
def test_new_evidence_rescores_unmatched_open_claims(db):
    membership = MembershipFactory()
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(membership.merchant, [(jpeg_bytes(claim), "c.jpg")])
    (image,) = analyse_all(dispute)
    assert image.risk_level == "low"  # the merchant had no evidence yet
    product = ProductFactory(merchant=membership.merchant)
    # Celery runs eagerly in unit tests: fingerprinting sends evidence_ready, which
    # re-analyses the unmatched claim at once.
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        reference_photo(product, sample("coffee"))
    image.refresh_from_db()
    assert image.risk_level == "high"


def analysed_events(dispute: Dispute) -> list[dict]:
    return list(
        AuditEvent.objects.filter(dispute=dispute, action="claim_image.analysed")
        .order_by("id")
        .values_list("data", flat=True)
    )


@pytest.mark.django_db
def test_new_evidence_reanalyses_only_claims_it_could_change_and_records_only_changes(db):
    from django.test import TestCase

    membership = MembershipFactory()
    product = ProductFactory(merchant=membership.merchant, sku="MUG-1")
    # Committed like a worker's (the merchant's re-analysis it schedules runs: no claims yet).
    with TestCase.captureOnCommitCallbacks(execute=True):
        reference_photo(product, sample("coffee"), "mug-front.jpg")
    claim, _ = doctored(sample("coffee"))
    dispute = open_dispute(
        membership.merchant,
        [(jpeg_bytes(claim), "broken.jpg"), (jpeg_bytes(sample("astronaut"), 80), "mine.jpg")],
    )
    doctored_image, honest = analyse_all(dispute)
    assert (doctored_image.risk_level, honest.risk_level) == ("high", "low")
    assert len(analysed_events(dispute)) == 2  # one per photo
    analysed_at = honest.processed_at

    # An unrelated product's photo: the unmatched claim is not re-analysed, nothing is
    # recorded, the dispute is left alone.
    version = Dispute.objects.get(pk=dispute.pk).version
    other = ProductFactory(merchant=membership.merchant, sku="CAT-1")
    with TestCase.captureOnCommitCallbacks(execute=True):
        reference_photo(other, sample("chelsea"), "cat.jpg")
    honest.refresh_from_db()
    assert honest.processed_at == analysed_at
    assert len(analysed_events(dispute)) == 2
    assert not AuditEvent.objects.filter(action="disputes.reanalyse").exists()
    assert Dispute.objects.get(pk=dispute.pk).version == version

    # The claim's own original: re-analysed, one event with the changed result.
    with TestCase.captureOnCommitCallbacks(execute=True):
        reference_photo(other, sample("astronaut"), "astronaut.jpg")
    honest.refresh_from_db()
    assert honest.findings.filter(code="derived_from_original").exists()
    events = analysed_events(dispute)
    assert len(events) == 3
    assert events[-1]["claim_image"] == honest.pk
    assert (events[-1]["level"], events[-1]["score"]) == (honest.risk_level, honest.risk_score)
    assert honest.risk_level != "low"
    reanalysed = AuditEvent.objects.get(action="disputes.reanalyse")
    assert reanalysed.data["claim_images"] == 1

    # Everything analysed again with nothing new: the same results, nothing recorded.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.dispute_reanalyse(merchant=membership.merchant, actor=None) == 2
    assert len(analysed_events(dispute)) == 3
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.NEEDS_REVIEW
    assert audit_chain_breaks() == []


@pytest.mark.django_db
def test_a_packing_video_reanalyses_the_unmatched_claims_of_its_own_order(db, settings):
    from django.test import TestCase

    from evidence import services as evidence_services
    from tests.evidence.test_services import mp4

    settings.KEYFRAME_MIN_SPACING_SECONDS = 1.0
    merchant = MembershipFactory().merchant
    ours = open_dispute(
        merchant,
        [(jpeg_bytes(sample("astronaut")), "a.jpg")],
        external_id="D-1",
        order_ref="ORDER-1",
        buyer_ref="buyer-1",
    )
    theirs = open_dispute(
        merchant,
        [(jpeg_bytes(sample("chelsea")), "b.jpg")],
        external_id="D-2",
        order_ref="ORDER-2",
        buyer_ref="buyer-2",
    )
    (mine,) = analyse_all(ours)
    (other,) = analyse_all(theirs)
    with TestCase.captureOnCommitCallbacks(execute=True):
        video = evidence_services.video_ingest(
            merchant=merchant,
            order_ref="ORDER-1",
            upload=ContentFile(mp4(seconds=3), name="ORDER-1.mp4"),
            filename="ORDER-1.mp4",
            uploader=None,
        ).obj
    assert video.keyframes.exists()
    reanalysed = AuditEvent.objects.get(action="disputes.reanalyse")
    assert reanalysed.data == {"claim_images": 1, "after": f"video:{video.pk}"}
    assert ClaimImage.objects.get(pk=mine.pk).processed_at > mine.processed_at
    assert ClaimImage.objects.get(pk=other.pk).processed_at == other.processed_at
    # Its result did not change: no second "analysed" event.
    assert len(analysed_events(ours)) == 1


@pytest.mark.django_db
def test_the_worker_reads_content_credentials_with_the_configured_trust_anchors(
    shop, media_root, settings, tmp_path
):
    from tests.forensics.test_provenance_c2pa import signed

    data, anchor = signed("trainedAlgorithmicMedia")
    bundle = tmp_path / "anchors.pem"
    bundle.write_text(anchor)
    settings.C2PA_TRUST_ANCHORS = str(bundle)
    dispute = open_dispute(shop.merchant, [(data, "generated.jpg")])

    (image,) = analyse_all(dispute)

    finding = image.findings.get(code="ai_provenance")
    assert finding.weight == 0.9
    assert finding.evidence["details"]["signer_trusted"] is True
    assert finding.message.endswith(", on the trust list.")
