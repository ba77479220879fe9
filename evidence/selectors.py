"""Every read a user triggers, scoped to the merchants that user belongs to.

"Missing" and "not yours" raise the same ``Http404``, so ids reveal nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from evidence.access import readable_filter
from evidence.models import (
    Merchant,
    PackingVideo,
    Product,
    ReferencePhoto,
    VideoKeyframe,
)


def merchants_for_user(*, user: Any) -> QuerySet[Merchant]:
    """Merchants the user acts for."""
    if not user.is_authenticated:
        return Merchant.objects.none()
    return Merchant.objects.filter(memberships__user=user).distinct()


def merchant_for_user(*, user: Any, merchant_id: int | None) -> Merchant | None:
    """The merchant the user chose (if theirs), else their first one, else ``None``."""
    merchants = merchants_for_user(user=user)
    if merchant_id is not None:
        chosen = merchants.filter(pk=merchant_id).first()
        if chosen is not None:
            return chosen
    return merchants.order_by("name", "pk").first()


def _get_or_404(queryset: QuerySet[Any], **lookup: Any) -> Any:
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404("Not found.")
    return obj


def product_list(*, user: Any, merchant: Merchant) -> QuerySet[Product]:
    """The merchant's products with photo counts, if the user acts for the merchant."""
    return (
        Product.objects.filter(merchant=merchant, merchant__memberships__user=user)
        .annotate(
            photo_count=Count("photos", distinct=True),
            failed_count=Count(
                "photos", filter=Q(photos__status=ReferencePhoto.Status.FAILED), distinct=True
            ),
        )
        .order_by("sku")
    )


def product_get(*, user: Any, product_id: int) -> Product:
    """One of the user's products, or 404."""
    return _get_or_404(
        Product.objects.select_related("merchant").filter(merchant__memberships__user=user),
        pk=product_id,
    )


def photo_list(*, user: Any, product: Product) -> QuerySet[ReferencePhoto]:
    """A product's reference photos, newest first."""
    return ReferencePhoto.objects.filter(
        product=product, merchant__memberships__user=user
    ).select_related("uploaded_by")


def photo_get(*, user: Any, photo_id: int) -> ReferencePhoto:
    """A reference photo the user may read (their merchant's, or in review scope), or 404."""
    return _get_or_404(
        ReferencePhoto.objects.select_related("product", "merchant").filter(readable_filter(user)),
        pk=photo_id,
    )


def photo_statuses(*, user: Any, photo_ids: list[int]) -> QuerySet[ReferencePhoto]:
    """The user's photos among ``photo_ids`` (for live status updates)."""
    return ReferencePhoto.objects.filter(pk__in=photo_ids, merchant__memberships__user=user)


def video_list(*, user: Any, merchant: Merchant, order_ref: str = "") -> QuerySet[PackingVideo]:
    """The merchant's packing videos, newest first, optionally for one order."""
    videos = (
        PackingVideo.objects.filter(merchant=merchant, merchant__memberships__user=user)
        .annotate(keyframe_count=Count("keyframes"))
        .order_by("-uploaded_at", "-id")
    )
    if order_ref:
        videos = videos.filter(order_ref__icontains=order_ref.strip())
    return videos


def video_get(*, user: Any, video_id: int) -> PackingVideo:
    """A packing video the user may read (their merchant's, or in review scope), or 404."""
    return _get_or_404(
        PackingVideo.objects.select_related("merchant", "uploaded_by").filter(
            readable_filter(user)
        ),
        pk=video_id,
    )


def keyframe_list(*, user: Any, video: PackingVideo) -> QuerySet[VideoKeyframe]:
    """A video's keyframes in time order."""
    return VideoKeyframe.objects.filter(readable_filter(user, "video__merchant"), video=video)


def keyframe_get(*, user: Any, keyframe_id: int) -> VideoKeyframe:
    """A keyframe the user may read (their merchant's, or in review scope), or 404."""
    return _get_or_404(
        VideoKeyframe.objects.select_related("video").filter(
            readable_filter(user, "video__merchant")
        ),
        pk=keyframe_id,
    )


def library_counts(*, user: Any, merchant: Merchant) -> dict[str, int]:
    """Headline numbers for the merchant's evidence library."""
    photos = ReferencePhoto.objects.filter(merchant=merchant, merchant__memberships__user=user)
    videos = PackingVideo.objects.filter(merchant=merchant, merchant__memberships__user=user)
    return {
        "products": Product.objects.filter(
            merchant=merchant, merchant__memberships__user=user
        ).count(),
        "photos": photos.count(),
        "photos_pending": photos.filter(
            status__in=[ReferencePhoto.Status.PENDING, ReferencePhoto.Status.PROCESSING]
        ).count(),
        "videos": videos.count(),
        "videos_pending": videos.filter(
            status__in=[PackingVideo.Status.PENDING, PackingVideo.Status.PROCESSING]
        ).count(),
    }
