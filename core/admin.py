"""Django admin for the tenancy (merchants, their people, support reviewers) and the
audit trail, which is read-only: events are never changed or deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditEvent, Membership, Merchant, Reviewer
from core.timezones import time_zone_choices


class TimeZoneAdminForm(forms.ModelForm):
    """``time_zone`` chosen from the IANA names (the model's validator still checks it)."""

    time_zone = forms.ChoiceField(choices=time_zone_choices)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    form = TimeZoneAdminForm
    list_display = ["name", "slug", "time_zone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["role", "merchant"]
    search_fields = ["user__username", "merchant__name"]
    autocomplete_fields = ["user", "merchant"]


@admin.register(Reviewer)
class ReviewerAdmin(admin.ModelAdmin):
    form = TimeZoneAdminForm
    list_display = ["user", "all_merchants", "is_active", "time_zone", "created_at"]
    list_filter = ["all_merchants", "is_active"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["merchants"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "merchant", "dispute", "actor")
    list_filter = ("action",)
    readonly_fields = (
        "merchant",
        "seq",
        "dispute",
        "actor",
        "action",
        "data",
        "created_at",
        "prev_hash",
        "hash",
        "hash_scheme",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
