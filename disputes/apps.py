"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    """Disputes, claim images and their analysis."""

    name = "disputes"
    verbose_name = _("Disputes")

    def ready(self) -> None:
        from disputes import receivers  # noqa: F401 - connects the signal handlers
