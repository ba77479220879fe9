"""Django admin for every evidence model. Originals are read-only here: they are
evidence, and the admin must not become a way to alter them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from evidence.models import (
    Fingerprint,
    PackingVideo,
    Product,
    ReferencePhoto,
    VideoKeyframe,
)

ORIGINAL_FIELDS = (
    "merchant",
    "file",
    "original_name",
    "sha256",
    "size_bytes",
    "content_type",
    "uploaded_by",
    "uploaded_at",
    "processed_at",
    "failure_reason",
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "title", "merchant", "created_at"]
    list_filter = ["merchant"]
    search_fields = ["sku", "title"]
    autocomplete_fields = ["merchant"]


class FingerprintInline(admin.TabularInline):
    model = Fingerprint
    fk_name = "reference_photo"
    extra = 0
    can_delete = False
    fields = ("algorithm", "version", "hex", "bits", "library_versions", "created_at")
    readonly_fields = ("algorithm", "version", "hex", "bits", "library_versions", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class KeyframeFingerprintInline(FingerprintInline):
    fk_name = "keyframe"


@admin.register(ReferencePhoto)
class ReferencePhotoAdmin(admin.ModelAdmin):
    list_display = ["original_name", "product", "merchant", "status", "sha256", "uploaded_at"]
    list_filter = ["status", "merchant", "content_type"]
    search_fields = ["original_name", "sha256", "product__sku"]
    readonly_fields = (*ORIGINAL_FIELDS, "width", "height", "thumbnail")
    fields = ["product", "status", *readonly_fields]
    inlines = [FingerprintInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # originals arrive through the validated upload paths only


@admin.register(PackingVideo)
class PackingVideoAdmin(admin.ModelAdmin):
    list_display = [
        "order_ref",
        "original_name",
        "merchant",
        "status",
        "duration_seconds",
        "uploaded_at",
    ]
    list_filter = ["status", "merchant", "codec"]
    search_fields = ["order_ref", "original_name", "sha256"]
    readonly_fields = (
        *ORIGINAL_FIELDS,
        "container",
        "codec",
        "width",
        "height",
        "duration_seconds",
    )
    fields = ["order_ref", "status", *readonly_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(VideoKeyframe)
class VideoKeyframeAdmin(admin.ModelAdmin):
    list_display = ["video", "t_seconds", "width", "height"]
    search_fields = ["video__order_ref"]
    readonly_fields = ["video", "t_seconds", "image", "width", "height", "source_sha256"]
    inlines = [KeyframeFingerprintInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Fingerprint)
class FingerprintAdmin(admin.ModelAdmin):
    list_display = ["algorithm", "version", "hex", "reference_photo", "keyframe", "created_at"]
    list_filter = ["algorithm", "version"]
    readonly_fields = [
        "merchant",
        "reference_photo",
        "keyframe",
        "algorithm",
        "version",
        "hex",
        "bits",
        "library_versions",
        "created_at",
    ]
    exclude = ["value"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
