"""Form fields every app shares: a time typed in a merchant's zone, and a zone chosen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.timezones import time_zone_choices, zone, zone_label


class ZonedDateTimeField(forms.DateTimeField):
    """A date and time typed in zone ``zone_name`` (the merchant's, whatever zone the
    request runs in) and cleaned to an aware datetime, which the database stores in UTC.
    The initial value is shown in the same zone; the help text names it."""

    def __init__(self, *args: Any, zone_name: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone_name = zone_name

    def zone_set(self, name: str) -> None:
        """Read and show times in zone ``name``, and say so under the input."""
        self.zone_name = name
        self.help_text = _("Time in %(zone)s.") % {"zone": zone_label(name)}

    def to_python(self, value: Any) -> Any:
        # A naive time is read in the active zone: make it this field's.
        with timezone.override(zone(self.zone_name)):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        with timezone.override(zone(self.zone_name)):
            return super().prepare_value(value)


class TimeZoneForm(forms.Form):
    """A time zone chosen from the IANA names this machine knows."""

    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not a time zone: choose a name such as Asia/Shanghai or UTC."
            )
        },
    )
