"""Query filters of the list endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.db.models import QuerySet

from disputes.models import Dispute
from evidence.models import PackingVideo, ReferencePhoto


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time, compared in UTC: any offset ISO allows (up to ±23:59) works,
    though PostgreSQL refuses offsets beyond ±15:59 as query parameters."""

    def filter(self, qs: QuerySet[Any], value: datetime | None) -> QuerySet[Any]:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)


class DisputeFilter(django_filters.FilterSet):
    respond_by_before = UtcDateTimeFilter(field_name="respond_by", lookup_expr="lt")
    respond_by_after = UtcDateTimeFilter(field_name="respond_by", lookup_expr="gte")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Dispute
        fields = ["status", "platform", "risk_level", "order_ref", "buyer_ref", "external_id"]


class PackingVideoFilter(django_filters.FilterSet):
    class Meta:
        model = PackingVideo
        fields = ["order_ref", "status"]


class ReferencePhotoFilter(django_filters.FilterSet):
    # By id, not a choice among every merchant's products: another merchant's product and
    # a missing one answer alike (an empty list), so ids cannot be probed.
    product = django_filters.NumberFilter(field_name="product_id")

    class Meta:
        model = ReferencePhoto
        fields = ["product", "status"]
