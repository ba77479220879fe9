"""Reads about disputes, scoped to the merchants the user acts for."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from disputes.models import AuditEvent, ClaimImage, Dispute, Finding
from evidence.models import Merchant, PackingVideo, ReferencePhoto, VideoKeyframe


def dispute_list(
    *, user: Any, merchant: Merchant, query: str = "", status: str = ""
) -> QuerySet[Dispute]:
    """The merchant's disputes, soonest deadline first, optionally filtered."""
    disputes = Dispute.objects.filter(merchant=merchant, merchant__memberships__user=user)
    if status:
        disputes = disputes.filter(status=status)
    if query:
        q = query.strip()
        disputes = disputes.filter(
            Q(order_ref__icontains=q) | Q(external_id__icontains=q) | Q(buyer_ref__icontains=q)
        )
    return disputes.select_related("product").order_by("respond_by", "-id")


def dispute_get(*, user: Any, dispute_id: int) -> Dispute:
    """One of the user's disputes with its claim images and findings, or 404."""
    dispute = (
        Dispute.objects.filter(merchant__memberships__user=user, pk=dispute_id)
        .select_related("merchant", "product", "created_by")
        .prefetch_related(
            Prefetch(
                "claim_images",
                queryset=ClaimImage.objects.order_by("id").prefetch_related(
                    Prefetch("findings", queryset=Finding.objects.order_by("-weight", "id"))
                ),
            )
        )
        .first()
    )
    if dispute is None:
        raise Http404("Not found.")
    return dispute


def claim_image_get(*, user: Any, claim_image_id: int) -> ClaimImage:
    """One of the user's claim images, or 404."""
    image = (
        ClaimImage.objects.filter(dispute__merchant__memberships__user=user, pk=claim_image_id)
        .select_related("dispute")
        .first()
    )
    if image is None:
        raise Http404("Not found.")
    return image


def dispute_audit_trail(*, user: Any, dispute: Dispute) -> QuerySet[AuditEvent]:
    """The dispute's audit events, oldest first."""
    return (
        AuditEvent.objects.filter(dispute=dispute, merchant__memberships__user=user)
        .select_related("actor")
        .order_by("id")
    )


def order_keyframes(*, user: Any, dispute: Dispute) -> QuerySet[VideoKeyframe]:
    """Keyframes of the packing videos filmed for the dispute's order."""
    return (
        VideoKeyframe.objects.filter(
            video__merchant=dispute.merchant,
            video__merchant__memberships__user=user,
            video__order_ref=dispute.order_ref,
            video__status=PackingVideo.Status.READY,
        )
        .select_related("video")
        .order_by("video_id", "t_seconds")
    )


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
        pk__in=wanted["photo"], merchant=dispute.merchant, merchant__memberships__user=user
    ).select_related("product"):
        found[f"photo:{photo.pk}"] = photo
    for keyframe in VideoKeyframe.objects.filter(
        pk__in=wanted["keyframe"],
        video__merchant=dispute.merchant,
        video__merchant__memberships__user=user,
    ).select_related("video"):
        found[f"keyframe:{keyframe.pk}"] = keyframe
    return found


def claim_statuses(*, user: Any, dispute_id: int) -> QuerySet[ClaimImage]:
    """Claim-image statuses of one of the user's disputes (live progress)."""
    return ClaimImage.objects.filter(
        dispute_id=dispute_id, dispute__merchant__memberships__user=user
    ).order_by("id")
