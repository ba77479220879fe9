"""Check an evidence pack: re-hash every file in the ZIP against its ``manifest.json``.

Needs no database: a platform's arbitrator or the police can run it on the ZIP alone.
Exit status 0 when every listed file is present with its SHA-256 and size and nothing
unlisted was added; 1 otherwise, after naming each problem.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from packs.archive import MANIFEST, pack_verify


class Command(BaseCommand):
    help = "Re-hash every file of an evidence-pack ZIP against its manifest.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pack", type=Path, help="the evidence pack's .zip file")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["pack"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        problems = list(pack_verify(path))
        for problem in problems:
            self.stderr.write(f"MISMATCH {problem.path}: {problem.problem}")
        if problems:
            raise CommandError(f"{path}: {len(problems)} problem(s); the pack is not intact")
        with zipfile.ZipFile(path) as zf:
            count = len(json.loads(zf.read(MANIFEST))["files"])
        self.stdout.write(self.style.SUCCESS(f"{path}: all {count} files match the manifest"))
