"""Every read a user triggers, scoped to the merchants that user belongs to.

"Missing" and "not yours" raise the same ``Http404``, so ids reveal nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from core.access import for_merchant, readable_filter, scoped_get
from core.models import Merchant
from evidence.models import (
    PackingVideo,
    Product,
    ReferencePhoto,
    VideoKeyframe,
)


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


def access_product_by_id(
    actor: Any, product_id: int | None, *, merchant: Merchant | None = None
) -> Product:
    """One of the actor's products (of ``merchant`` only, when given), or 404."""
    return scoped_get(
        for_merchant(
            Product.objects.select_related("merchant").filter(merchant__memberships__user=actor),
            merchant,
        ),
        product_id,
    )


def photo_list(
    *, user: Any, product: Product | None = None, merchant: Merchant | None = None
) -> QuerySet[ReferencePhoto]:
    """Reference photos of the user's merchants, newest first: one product's, or one
    merchant's."""
    photos = for_merchant(
        ReferencePhoto.objects.filter(merchant__memberships__user=user).select_related(
            "uploaded_by"
        ),
        merchant,
    )
    return photos if product is None else photos.filter(product=product)


def access_photo_by_id(
    actor: Any, photo_id: int | None, *, merchant: Merchant | None = None
) -> ReferencePhoto:
    """A reference photo the actor may read (their merchant's, or in review scope), or
    404."""
    return scoped_get(
        for_merchant(
            ReferencePhoto.objects.select_related("product", "merchant").filter(
                readable_filter(actor)
            ),
            merchant,
        ),
        photo_id,
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


def access_video_by_id(
    actor: Any, video_id: int | None, *, merchant: Merchant | None = None
) -> PackingVideo:
    """A packing video the actor may read (their merchant's, or in review scope), or 404."""
    return scoped_get(
        for_merchant(
            PackingVideo.objects.select_related("merchant", "uploaded_by").filter(
                readable_filter(actor)
            ),
            merchant,
        ),
        video_id,
    )


def keyframe_list(*, user: Any, video: PackingVideo) -> QuerySet[VideoKeyframe]:
    """A video's keyframes in time order."""
    return VideoKeyframe.objects.filter(readable_filter(user, "video__merchant"), video=video)


def access_keyframe_by_id(actor: Any, keyframe_id: int | None) -> VideoKeyframe:
    """A keyframe the actor may read (their merchant's, or in review scope), or 404."""
    return scoped_get(
        VideoKeyframe.objects.select_related("video").filter(
            readable_filter(actor, "video__merchant")
        ),
        keyframe_id,
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
