"""Bulk-import a folder of evidence: one sub-folder per SKU holding its photos, and
packing videos at the top level named by order number (``ORDER-123.mp4``).

Safe to re-run: files whose bytes the merchant already has are counted as duplicates.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.models import Merchant
from evidence import services

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv"}


class Command(BaseCommand):
    help = "Import product photos (DIR/<SKU>/*) and packing videos (DIR/<order>.mp4)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--merchant", required=True, help="The merchant's slug.")
        parser.add_argument(
            "--now",
            action="store_true",
            help="Fingerprint in this process instead of leaving it to the workers.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root: Path = options["directory"]
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        merchant = Merchant.objects.filter(slug=options["merchant"]).first()
        if merchant is None:
            raise CommandError(f"No merchant with slug '{options['merchant']}'.")
        photos = sorted(
            (sku_dir.name, path)
            for sku_dir in root.iterdir()
            if sku_dir.is_dir() and not sku_dir.name.startswith(".")
            for path in sku_dir.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )
        videos = sorted(
            p for p in root.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
        )
        skipped = sorted(
            p.name
            for p in root.iterdir()
            if p.is_file() and p.suffix.lower() not in VIDEO_SUFFIXES and not p.name.startswith(".")
        )
        counts: Counter[tuple[str, str]] = Counter()
        rejected: list[tuple[Path, str]] = []
        work = [("photo", sku, path) for sku, path in photos] + [
            ("video", path.stem, path) for path in videos
        ]
        bar = tqdm(work, unit="file", desc="Importing", disable=options["verbosity"] == 0)
        for kind, key, path in bar:
            bar.set_postfix_str(path.name[-30:])
            try:
                outcome = self._import_one(merchant, kind, key, path)
            except ValidationError as exc:
                counts[(kind, "rejected")] += 1
                rejected.append((path, " ".join(exc.messages)))
                continue
            counts[(kind, outcome.status)] += 1
            if options["now"] and outcome.is_new:
                if kind == "photo":
                    services.photo_fingerprint(photo_id=outcome.obj.pk)
                else:
                    services.video_process(video_id=outcome.obj.pk)
        bar.close()
        self._summary(counts, rejected, skipped, root)

    def _import_one(
        self, merchant: Merchant, kind: str, key: str, path: Path
    ) -> services.IngestOutcome:
        with path.open("rb") as fh:
            upload = File(fh, name=path.name)
            if kind == "photo":
                product = services.product_get_or_create(merchant=merchant, actor=None, sku=key)
                return services.photo_ingest(
                    product=product, upload=upload, filename=path.name, uploader=None
                )
            return services.video_ingest(
                merchant=merchant, order_ref=key, upload=upload, filename=path.name, uploader=None
            )

    def _summary(
        self,
        counts: Counter[tuple[str, str]],
        rejected: list[tuple[Path, str]],
        skipped: list[str],
        root: Path,
    ) -> None:
        self.stdout.write("")
        self.stdout.write(f"{'':8}{'stored':>8}{'duplicate':>11}{'rejected':>10}")
        for kind, label in (("photo", "photos"), ("video", "videos")):
            self.stdout.write(
                f"{label:8}{counts[(kind, 'stored')]:>8}{counts[(kind, 'duplicate')]:>11}"
                f"{counts[(kind, 'rejected')]:>10}"
            )
        for path, reason in rejected:
            self.stdout.write(self.style.WARNING(f"rejected {path.relative_to(root)}: {reason}"))
        for name in skipped:
            self.stdout.write(f"skipped {name}: not a video, and photos belong in a SKU folder")
        stored = counts[("photo", "stored")] + counts[("video", "stored")]
        self.stdout.write(
            self.style.SUCCESS(f"Done: {stored} new file(s) stored.")
            if not rejected
            else self.style.WARNING(f"Done: {stored} new file(s) stored, {len(rejected)} rejected.")
        )
