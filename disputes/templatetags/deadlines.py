"""Respond-by deadlines as people read them."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext

register = template.Library()


@register.filter
def time_left(deadline: datetime | None, now: datetime | None = None) -> str:
    """ "2 days, 3 hours left", or "overdue by 5 hours"."""
    if deadline is None:
        return ""
    now = now or timezone.now()
    if deadline < now:
        return gettext("overdue by %(time)s") % {"time": timeuntil(now, deadline, depth=1)}
    return gettext("%(time)s left") % {"time": timeuntil(deadline, now, depth=2)}


@register.filter
def is_overdue(deadline: datetime | None, now: datetime | None = None) -> bool:
    """Whether the deadline has passed."""
    return deadline is not None and deadline < (now or timezone.now())
