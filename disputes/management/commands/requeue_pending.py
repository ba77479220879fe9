"""Send again the work that never reached a worker: photos, videos and claim photos
still ``pending`` or ``processing`` after a while (the broker was down when the upload
committed, or a worker died mid-task). Safe to run any time: the tasks are idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from disputes.models import ClaimImage
from disputes.tasks import claim_image_analyze_task
from evidence.models import PackingVideo, ReferencePhoto
from evidence.tasks import photo_fingerprint_task, video_process_task


class Command(BaseCommand):
    help = "Re-enqueue evidence and claim photos stuck in pending/processing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than", type=int, default=10, metavar="MINUTES",
            help="Only rows uploaded at least this many minutes ago (default 10).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(minutes=options["older_than"])
        work = [
            (
                "reference photos",
                ReferencePhoto.objects.filter(
                    status__in=[ReferencePhoto.Status.PENDING, ReferencePhoto.Status.PROCESSING]
                ),
                photo_fingerprint_task,
            ),
            (
                "packing videos",
                PackingVideo.objects.filter(
                    status__in=[PackingVideo.Status.PENDING, PackingVideo.Status.PROCESSING]
                ),
                video_process_task,
            ),
            (
                "claim photos",
                ClaimImage.objects.filter(
                    analysis_status__in=[ClaimImage.Status.PENDING, ClaimImage.Status.PROCESSING]
                ),
                claim_image_analyze_task,
            ),
        ]
        for label, rows, task in work:
            ids = list(rows.filter(uploaded_at__lte=cutoff).values_list("pk", flat=True))
            for object_id in ids:
                task.delay(object_id)
            self.stdout.write(f"{label}: {len(ids)} re-enqueued")
