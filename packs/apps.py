"""Evidence packs: the PDF report and ZIP a merchant sends to a platform or the police."""

from django.apps import AppConfig


class PacksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "packs"
    verbose_name = "Evidence packs"

    def ready(self) -> None:
        from core.sweeper import StuckWork, stuck_work_register
        from packs import checks  # noqa: F401 - registers the PDF rendering check
        from packs.models import EvidencePack

        stuck_work_register(
            StuckWork(
                label="evidence packs",
                model=EvidencePack,
                status_field="status",
                pending=EvidencePack.Status.PENDING,
                processing=EvidencePack.Status.BUILDING,
                task="packs.tasks.evidence_pack_build_task",
                since="created_at",
            )
        )
