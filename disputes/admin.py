"""Django admin for disputes. Claim images are read-only evidence (the audit trail:
``core.admin``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from disputes.models import ClaimImage, Decision, Dispute, Finding, InternalNote


class ClaimImageInline(admin.TabularInline):
    model = ClaimImage
    extra = 0
    can_delete = False
    fields = ("original_name", "sha256", "analysis_status", "risk_level", "risk_score")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = (
        "external_id",
        "platform",
        "merchant",
        "order_ref",
        "status",
        "risk_level",
        "respond_by",
    )
    list_filter = ("status", "risk_level", "platform", "merchant")
    search_fields = ("external_id", "order_ref", "buyer_ref")
    readonly_fields = ("risk_score", "risk_level", "created_by", "created_at", "updated_at")
    inlines = [ClaimImageInline]


class FindingInline(admin.TabularInline):
    model = Finding
    extra = 0
    can_delete = False
    fields = ("code", "weight", "message", "evidence")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ClaimImage)
class ClaimImageAdmin(admin.ModelAdmin):
    list_display = (
        "original_name",
        "dispute",
        "analysis_status",
        "risk_level",
        "risk_score",
        "uploaded_at",
    )
    list_filter = ("analysis_status", "risk_level")
    search_fields = ("original_name", "sha256", "dispute__external_id")
    readonly_fields = (
        "dispute", "merchant", "file", "original_name", "sha256", "size_bytes", "content_type",
        "width", "height", "uploaded_by", "uploaded_at", "analysis_status", "risk_score",
        "risk_level", "region", "heatmap", "thumbnail", "failure_reason", "processed_at",
    )  # fmt: skip
    exclude = ("phash",)
    inlines = [FindingInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("code", "weight", "claim_image", "created_at")
    list_filter = ("code",)
    readonly_fields = ("claim_image", "code", "weight", "message", "evidence", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ("dispute", "outcome", "requested_from", "reviewer", "created_at")
    list_filter = ("outcome",)
    readonly_fields = ("dispute", "reviewer", "outcome", "requested_from", "note", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(InternalNote)
class InternalNoteAdmin(admin.ModelAdmin):
    list_display = ("dispute", "author", "created_at")
    readonly_fields = ("dispute", "author", "text", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
