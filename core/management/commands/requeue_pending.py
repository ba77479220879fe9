"""Send again the work that never reached a worker: every kind the apps registered with
the sweeper (photos, videos, claim photos, evidence packs) still ``pending`` or
``processing`` after a while (the broker was down when the upload committed, or a worker
died mid-task). Safe to run any time: the tasks are idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core.sweeper import stuck_work_requeue


class Command(BaseCommand):
    help = "Re-enqueue work (photos, videos, claim photos, packs) stuck in pending/processing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than", type=int, default=10, metavar="MINUTES",
            help="Only rows uploaded at least this many minutes ago (default 10).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        counts = stuck_work_requeue(older_than=timedelta(minutes=options["older_than"]))
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-enqueued")
