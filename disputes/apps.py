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
        from disputes.models import ClaimImage, ReanalysisSchedule

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
        # A re-analysis after new evidence whose task was lost (broker restarted, worker
        # killed): its row says which merchant, the pending evidence is in the database.
        stuck_work_register(
            StuckWork(
                label="re-analyses after new evidence",
                model=ReanalysisSchedule,
                status_field="status",
                pending=ReanalysisSchedule.Status.SCHEDULED,
                processing=ReanalysisSchedule.Status.RUNNING,
                task="disputes.tasks.merchant_reanalyse_task",
                since="status_since",
            )
        )
