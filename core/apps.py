"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app shares: tenancy, access, the audit trail, the task base, the sweeper."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = _("Merchants and audit trail")
