"""Send again the work that never reached a worker: every kind the apps registered with
the sweeper (photos, videos, claim photos, evidence packs) still ``pending`` after a
while (the broker was down when the upload committed), or ``processing`` with no live
worker holding it (a worker died mid-task). Safe to run any time: the tasks are
idempotent."""

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
            help="Pending rows uploaded at least this many minutes ago (default 10).",
        )  # fmt: skip
        parser.add_argument(
            "--processing-after", type=float, default=None, metavar="MINUTES",
            help="Processing rows no live worker holds, uploaded at least this many minutes "
            "ago (default REFUNDGUARD_PROCESSING_GRACE_SECONDS, 2 minutes).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        after = options["processing_after"]
        counts = stuck_work_requeue(
            older_than=timedelta(minutes=options["older_than"]),
            processing_after=None if after is None else timedelta(minutes=after),
        )
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-enqueued")
