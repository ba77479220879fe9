"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    """The merchant's evidence library."""

    name = "evidence"
    verbose_name = _("Evidence library")
