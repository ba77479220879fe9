"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    """The merchant's evidence library."""

    name = "evidence"
    verbose_name = _("Evidence library")

    def ready(self) -> None:
        from core.sweeper import StuckWork, stuck_work_register
        from evidence.models import PackingVideo, ReferencePhoto

        stuck_work_register(
            StuckWork(
                label="reference photos",
                model=ReferencePhoto,
                status_field="status",
                pending=ReferencePhoto.Status.PENDING,
                processing=ReferencePhoto.Status.PROCESSING,
                task="evidence.tasks.photo_fingerprint_task",
            )
        )
        stuck_work_register(
            StuckWork(
                label="packing videos",
                model=PackingVideo,
                status_field="status",
                pending=PackingVideo.Status.PENDING,
                processing=PackingVideo.Status.PROCESSING,
                task="evidence.tasks.video_process_task",
            )
        )
