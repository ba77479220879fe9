"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    """Disputes, claim images and their analysis."""

    name = "disputes"
    verbose_name = _("Disputes")

    def ready(self) -> None:
        from core.sweeper import StuckWork, stuck_work_register
        from disputes import receivers  # noqa: F401 - connects the signal handlers
        from disputes.models import ClaimImage

        stuck_work_register(
            StuckWork(
                label="claim photos",
                model=ClaimImage,
                status_field="analysis_status",
                pending=ClaimImage.Status.PENDING,
                processing=ClaimImage.Status.PROCESSING,
                task="disputes.tasks.claim_image_analyze_task",
            )
        )
