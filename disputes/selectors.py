"""Reads about disputes, scoped to the user: a merchant's members see that merchant's
disputes; support reviewers see the merchants in their review scope (and the queue)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.access import (
    can_review,
    for_merchant,
    member_filter,
    readable_filter,
    review_filter,
    scoped_get,
)
from core.models import AuditEvent, Membership, Merchant
from disputes.buyer_history import dispute_buyer_key
from disputes.models import ClaimImage, Dispute, Finding, InternalNote, RiskLevel
from evidence.ids import database_id
from evidence.models import PackingVideo, ReferencePhoto, VideoKeyframe

#: Audit actions that concern support staff only; a merchant's trail leaves them out.
INTERNAL_ACTIONS = frozenset({"note.added"})
#: Custody records kept for verification and the admin, not listed on the page.
UNLISTED_ACTIONS = frozenset({"dispute.viewed"})


def dispute_list(
    *, user: Any, merchant: Merchant, query: str = "", status: str = ""
) -> QuerySet[Dispute]:
    """The merchant's disputes, soonest deadline first, optionally filtered."""
    disputes = Dispute.objects.filter(member_filter(user), merchant=merchant)
    if status:
        disputes = disputes.filter(status=status)
    return (
        _search(disputes, query)
        .select_related("product", "top_claim_image")
        .order_by("respond_by", "-id")
    )


def _search(disputes: QuerySet[Dispute], query: str) -> QuerySet[Dispute]:
    """Disputes whose platform id, order number or buyer id contains ``query``, the buyer
    whose id it is however it was typed ("tb_buyer88" finds "ＴＢ_Buyer 88"), or the
    dispute with that number."""
    q = unicodedata.normalize("NFKC", query).strip()
    if not q:
        return disputes
    found = Q(order_ref__icontains=q) | Q(external_id__icontains=q) | Q(buyer_ref__icontains=q)
    keys = {dispute_buyer_key(platform=p, buyer_ref=q) for p in Dispute.Platform.values}
    found |= Q(buyer_key__in=keys - {""})
    number = database_id(q) if q.isdigit() else None
    if number is not None:
        found |= Q(pk=number)
    return disputes.filter(found)


def review_merchants(*, user: Any) -> QuerySet[Merchant]:
    """Merchants in the reviewer's scope (empty for anyone else)."""
    return Merchant.objects.filter(review_filter(user, "pk")).order_by("name")


def review_queue(
    *,
    user: Any,
    merchant_id: int | None = None,
    platform: str = "",
    risk: str = "",
    status: str = "",
    overdue: bool = False,
    query: str = "",
) -> QuerySet[Dispute]:
    """Disputes awaiting a decision in the reviewer's scope, riskiest first, then the
    soonest respond-by deadline. One query per page: the riskiest photo and its top
    reason are denormalised onto the dispute (see ``services._dispute_refresh``)."""
    disputes = Dispute.objects.filter(review_filter(user))
    if status in Dispute.Status.values:
        disputes = disputes.filter(status=status)
    elif status != "all":
        disputes = disputes.filter(status__in=Dispute.AWAITING_DECISION)
    if merchant_id is not None:
        disputes = disputes.filter(merchant_id=merchant_id)
    if platform in Dispute.Platform.values:
        disputes = disputes.filter(platform=platform)
    if risk in RiskLevel.values:
        disputes = disputes.filter(risk_level=risk)
    elif risk == "none":
        disputes = disputes.filter(risk_level="")
    if overdue:
        disputes = disputes.filter(respond_by__lt=timezone.now())
    return (
        _search(disputes, query)
        .select_related("merchant", "top_claim_image", "top_finding")
        .annotate(buyer_here=_buyer_count(same_merchant=True), buyer_everywhere=_buyer_count())
        # Findings say "your" only to the merchant's own members (in the same query).
        .annotate(
            viewer_is_member=Exists(
                Membership.objects.filter(user=user, merchant_id=OuterRef("merchant_id"))
            )
        )
        .order_by("-risk_rank", "respond_by", "id")
    )


def _buyer_count(*, same_merchant: bool = False) -> Coalesce:
    """Subquery: the row's buyer's other disputes (one merchant or all; a count only)."""
    others = Dispute.objects.filter(buyer_key=OuterRef("buyer_key")).exclude(pk=OuterRef("pk"))
    if same_merchant:
        others = others.filter(merchant_id=OuterRef("merchant_id"))
    counted = others.exclude(buyer_key="").order_by().values("buyer_key")
    return Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")[:1]), Value(0))


def with_claim_images(disputes: QuerySet[Dispute]) -> QuerySet[Dispute]:
    """Disputes with their claim images and each image's findings, strongest first."""
    return disputes.prefetch_related(
        Prefetch(
            "claim_images",
            queryset=ClaimImage.objects.order_by("id").prefetch_related(
                Prefetch("findings", queryset=Finding.objects.order_by("-weight", "id"))
            ),
        )
    )


def access_dispute_by_id(
    actor: Any, dispute_id: int | None, *, merchant: Merchant | None = None
) -> Dispute:
    """A dispute the actor may read (of ``merchant`` only, when given), with its claim
    images and findings, or 404."""
    return scoped_get(
        with_claim_images(
            for_merchant(Dispute.objects.filter(readable_filter(actor)), merchant)
        ).select_related("merchant", "product", "created_by"),
        dispute_id,
    )


def access_claim_image_by_id(actor: Any, claim_image_id: int | None) -> ClaimImage:
    """A claim image the actor may read, or 404."""
    return scoped_get(
        ClaimImage.objects.filter(readable_filter(actor, "dispute__merchant")).select_related(
            "dispute"
        ),
        claim_image_id,
    )


def dispute_audit_trail(*, user: Any, dispute: Dispute) -> QuerySet[AuditEvent]:
    """The dispute's audit events, oldest first; support-only events for reviewers only."""
    events = (
        AuditEvent.objects.filter(readable_filter(user), dispute=dispute)
        .exclude(action__in=UNLISTED_ACTIONS)
        .select_related("actor")
        .order_by("id")
    )
    if not can_review(user, dispute.merchant_id):
        events = events.exclude(action__in=INTERNAL_ACTIONS)
    return events


def internal_notes(*, user: Any, dispute: Dispute) -> QuerySet[InternalNote]:
    """Support staff's notes on the dispute; nothing for anyone outside review scope."""
    if not can_review(user, dispute.merchant_id):
        return InternalNote.objects.none()
    return dispute.internal_notes.select_related("author").order_by("created_at", "id")


def buyer_history(*, user: Any, dispute: Dispute, limit: int = 20) -> QuerySet[Dispute]:
    """The same buyer's earlier disputes with this merchant (matched on the normalised,
    keyed buyer id), newest first, with outcomes: the ones ``buyer_counts`` counts, so
    the page's list and its numbers agree."""
    if not dispute.buyer_key:
        return Dispute.objects.none()
    return (
        Dispute.objects.filter(
            readable_filter(user),
            merchant_id=dispute.merchant_id,
            buyer_key=dispute.buyer_key,
            opened_at__lte=dispute.opened_at,
        )
        .exclude(pk=dispute.pk)
        .order_by("-opened_at", "-id")[:limit]
    )


def order_keyframes(*, user: Any, dispute: Dispute) -> QuerySet[VideoKeyframe]:
    """Keyframes of the packing videos filmed for the dispute's order."""
    return (
        VideoKeyframe.objects.filter(
            readable_filter(user, "video__merchant"),
            video__merchant=dispute.merchant,
            video__order_ref=dispute.order_ref,
            video__status=PackingVideo.Status.READY,
        )
        .select_related("video")
        .order_by("video_id", "t_seconds")
    )


def order_videos(*, user: Any, dispute: Dispute) -> QuerySet[PackingVideo]:
    """Every packing video uploaded for the dispute's order, whatever its status."""
    return PackingVideo.objects.filter(
        readable_filter(user), merchant=dispute.merchant, order_ref=dispute.order_ref
    ).order_by("-uploaded_at", "-id")


def matched_originals(*, user: Any, dispute: Dispute) -> dict[str, Any]:
    """The reference photos and keyframes that findings point to, keyed "kind:id"."""
    wanted: dict[str, set[int]] = {"photo": set(), "keyframe": set()}
    for image in dispute.claim_images.all():
        for finding in image.findings.all():
            kind = finding.evidence.get("original_kind")
            if kind in wanted:
                wanted[kind].add(int(finding.evidence["original_id"]))
    found: dict[str, Any] = {}
    for photo in ReferencePhoto.objects.filter(
        readable_filter(user), pk__in=wanted["photo"], merchant=dispute.merchant
    ).select_related("product"):
        found[f"photo:{photo.pk}"] = photo
    for keyframe in VideoKeyframe.objects.filter(
        readable_filter(user, "video__merchant"),
        pk__in=wanted["keyframe"],
        video__merchant=dispute.merchant,
    ).select_related("video"):
        found[f"keyframe:{keyframe.pk}"] = keyframe
    return found


def claim_statuses(*, user: Any, dispute_id: int) -> QuerySet[ClaimImage]:
    """Claim-image statuses of a dispute the user may read (live progress)."""
    return ClaimImage.objects.filter(
        readable_filter(user, "dispute__merchant"), dispute_id=dispute_id
    ).order_by("id")
