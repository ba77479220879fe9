"""Check the chain of custody: re-hash every stored original and walk the audit chain.

Exit status 0 when every file matches its recorded SHA-256 and every audit event's hash
and link verify; 1 otherwise, after naming each altered or missing file and the first
broken link of the chain.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.audit import audit_chain_breaks
from core.models import AuditEvent
from disputes.models import ClaimImage
from evidence.models import PackingVideo, ReferencePhoto

CHUNK = 1024 * 1024


def file_sha256(name: str) -> str | None:
    """SHA-256 of a stored file, or ``None`` when it is missing."""
    if not name or not default_storage.exists(name):
        return None
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Re-hash every stored original and verify the hash-chained audit trail."

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = [
            ("reference photo", ReferencePhoto.objects.all()),
            ("packing video", PackingVideo.objects.all()),
            ("claim image", ClaimImage.objects.all()),
        ]
        total = sum(qs.count() for _, qs in kinds)
        problems: list[str] = []
        checked = 0
        with tqdm(total=total, unit="file", disable=options["verbosity"] < 1) as bar:
            for label, queryset in kinds:
                for obj in queryset.only("pk", "file", "sha256", "original_name").iterator():
                    actual = file_sha256(obj.file.name or "")
                    if actual is None:
                        problems.append(
                            f"MISSING  {label} {obj.pk} ({obj.original_name}): {obj.file.name}"
                        )
                    elif actual != obj.sha256:
                        problems.append(
                            f"ALTERED  {label} {obj.pk} ({obj.original_name}): {obj.file.name} "
                            f"has SHA-256 {actual}, recorded {obj.sha256}"
                        )
                    checked += 1
                    bar.update(1)
        breaks = audit_chain_breaks()
        events = AuditEvent.objects.count()
        if breaks:
            first = AuditEvent.objects.get(pk=breaks[0])
            problems.append(
                f"BROKEN   audit chain at event {first.pk} ({first.created_at:%Y-%m-%d %H:%M:%S} "
                f"{first.action}); {len(breaks)} event(s) do not verify"
            )
        self.stdout.write(f"{checked} original file(s) re-hashed, {events} audit event(s) walked.")
        if problems:
            for line in problems:
                self.stdout.write(self.style.ERROR(line))
            raise CommandError(f"chain of custody broken: {len(problems)} problem(s)", returncode=1)
        self.stdout.write(self.style.SUCCESS("Chain of custody intact."))
