"""Times as people read them: in a named zone, with the zone said (``core.timezones``).

``{{ value|zoned }}`` reads ``value`` in the active zone (the merchant's on its pages),
``{{ value|zoned:name }}`` in zone ``name``; ``{{ name|zone_label }}`` is
``UTC+8 (Asia/Shanghai)`` (``{{ ""|zone_label }}``: the active zone);
``{% in_zones value merchant_zone %}`` adds a support reviewer's own zone when it differs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext

from core import timezones

register = template.Library()


@register.filter
def zoned(value: datetime | None, name: str | None = None) -> str:
    """``2026-12-08 18:00 UTC+8 (Asia/Shanghai)``."""
    return timezones.zoned(value, name or None)


@register.filter
def zone_label(name: str | None) -> str:
    """``UTC+8 (Asia/Shanghai)`` now, or ``UTC``; the active zone for an empty name."""
    return timezones.zone_label(name or None)


@register.simple_tag(takes_context=True)
def in_zones(context: Any, value: datetime | None, merchant_zone: str) -> str:
    """The time in the merchant's zone and, for a support reviewer whose own zone differs
    (``reviewer_time_zone`` in the context), in theirs as well."""
    if value is None:
        return ""
    shown = timezones.zoned(value, merchant_zone)
    own = context.get("reviewer_time_zone")
    if own and timezones.zone(own) != timezones.zone(merchant_zone):
        mine = gettext("%(time)s where you are") % {"time": timezones.zoned(value, own)}
        return f"{shown} · {mine}"
    return shown


@register.simple_tag
def now_in_zone(name: str | None = None) -> str:
    """The time now in zone ``name`` (the active zone by default), with the zone named."""
    return timezones.zoned(timezone.now(), name or None)
