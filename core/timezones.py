"""Time zones: each merchant's (deadlines are typed, shown, packed and sent by the API in
it) and each support reviewer's own. Times are stored in UTC; these helpers only read
them in a zone, always with the zone named (``2026-12-08 18:00 UTC+8 (Asia/Shanghai)``).

Pure helpers over ``zoneinfo`` and Django's ``timezone``: no model is imported here
(``core.models`` takes its validator from this module).
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime, timedelta, tzinfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: A new merchant's zone: RefundGuard's merchants sell on Chinese platforms.
DEFAULT_MERCHANT_TIME_ZONE = "Asia/Shanghai"
#: A support reviewer's zone until they choose theirs.
DEFAULT_REVIEWER_TIME_ZONE = "UTC"
#: Long enough for every IANA name (the longest has 32 characters).
TIME_ZONE_MAX_LENGTH = 64


@functools.cache
def time_zone_names() -> frozenset[str]:
    """Every IANA zone name this machine's time-zone database knows."""
    return frozenset(zoneinfo.available_timezones())


def time_zone_choices() -> list[tuple[str, str]]:
    """The zone names for a select, sorted (``UTC`` first)."""
    names = sorted(time_zone_names() - {"UTC"})
    return [("UTC", "UTC"), *((name, name) for name in names)]


def validate_time_zone(value: str) -> None:
    """Refuse a name that is not an IANA time zone (``Asia/Shanghai``, ``Europe/Berlin``)."""
    if value not in time_zone_names():
        raise ValidationError(
            _("“%(value)s” is not a time zone: choose a name such as Asia/Shanghai or UTC."),
            code="invalid_time_zone",
            params={"value": value},
        )


@functools.cache
def zone(name: str | None) -> tzinfo:
    """The zone called ``name``; UTC for an empty or unknown name (never an error while
    a page is drawn: names are validated when they are saved)."""
    if name and name in time_zone_names():
        return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo("UTC")


def zone_name(tz: tzinfo) -> str:
    """The IANA name of a zone (``UTC`` for the fixed UTC zone)."""
    return str(getattr(tz, "key", None) or tz)


def utc_offset(offset: timedelta | None) -> str:
    """``UTC+8``, ``UTC-3:30``, ``UTC`` — the offset as people write it."""
    minutes = round((offset or timedelta()).total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _in_zone(value: datetime, name: str | None) -> tuple[datetime, str]:
    """``value`` read in zone ``name`` (the active zone by default), and the zone's label
    at that time."""
    tz = zone(name) if name else timezone.get_current_timezone()
    local = timezone.localtime(value, tz) if timezone.is_aware(value) else value
    offset = utc_offset(local.utcoffset())
    key = zone_name(tz)
    if key in {"UTC", "Etc/UTC"} and offset == "UTC":
        return local, "UTC"
    return local, f"{offset} ({key})"


def zone_label(name: str | None = None, at: datetime | None = None) -> str:
    """``UTC+8 (Asia/Shanghai)`` at ``at`` (default now: the offset changes with summer
    time); just ``UTC`` for UTC. ``name`` defaults to the active zone."""
    return _in_zone(at or timezone.now(), name)[1]


def zoned(value: datetime | None, name: str | None = None) -> str:
    """``2026-12-08 18:00 UTC+8 (Asia/Shanghai)``: ``value`` read in zone ``name`` (the
    active zone by default), with the zone named; empty for no time."""
    if value is None:
        return ""
    local, label = _in_zone(value, name)
    return f"{local:%Y-%m-%d %H:%M} {label}"
