"""Query filters of the list endpoints."""

from __future__ import annotations

import django_filters

from disputes.models import Dispute
from evidence.models import PackingVideo, ReferencePhoto


class DisputeFilter(django_filters.FilterSet):
    respond_by_before = django_filters.IsoDateTimeFilter(field_name="respond_by", lookup_expr="lt")
    respond_by_after = django_filters.IsoDateTimeFilter(field_name="respond_by", lookup_expr="gte")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Dispute
        fields = ["status", "platform", "risk_level", "order_ref", "buyer_ref", "external_id"]


class PackingVideoFilter(django_filters.FilterSet):
    class Meta:
        model = PackingVideo
        fields = ["order_ref", "status"]


class ReferencePhotoFilter(django_filters.FilterSet):
    class Meta:
        model = ReferencePhoto
        fields = ["product", "status"]
