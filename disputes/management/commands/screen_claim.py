"""Screen claim photos against original files, without the database.

    python manage.py screen_claim --originals DIR [--originals DIR …] [--video FILE …]
                                  [--c2pa-trust-anchors PEM] [--json] CLAIM [CLAIM …]

The contract is in DESIGN.md: ``--json`` prints one JSON array, one object per claim
in input order; a claim that cannot be read gets ``{"claim", "error"}``; exit 0 unless
the arguments are wrong (2). Uses exactly the engine the workers use, with the same C2PA
trust anchors (``REFUNDGUARD_C2PA_TRUST_ANCHORS``) unless ``--c2pa-trust-anchors`` names
another bundle.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from forensics.pipeline import ClaimContext
from forensics.provenance import read_trust_anchors
from forensics.screening import build_file_index, original_files, screen_file


class Command(BaseCommand):
    help = "Screen claim photos against original photos and packing videos (files only)."
    requires_system_checks: list[str] = []  # works without a configured database
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("claims", nargs="+", type=Path, metavar="CLAIM")
        parser.add_argument(
            "--originals", action="append", type=Path, default=[], metavar="DIR",
            help="A folder (searched recursively) or file of merchant originals; repeatable.",
        )  # fmt: skip
        parser.add_argument(
            "--video", action="append", type=Path, default=[], metavar="FILE",
            help="A packing video whose keyframes count as originals; repeatable.",
        )  # fmt: skip
        parser.add_argument(
            "--c2pa-trust-anchors", type=Path, default=None, metavar="PEM",
            help="A PEM bundle of C2PA trust anchors (default: REFUNDGUARD_C2PA_TRUST_ANCHORS).",
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help="Print one JSON array.")

    def handle(self, *args: Any, **options: Any) -> None:
        originals: list[Path] = options["originals"]
        videos: list[Path] = options["video"]
        if not originals and not videos:
            self._usage("give at least one --originals DIR or --video FILE")
        for path in [*originals, *videos]:
            if not path.exists():
                self._usage(f"{path} does not exist")
        context = ClaimContext(c2pa_trust_anchors=self._trust_anchors(options))
        photos = original_files(originals)
        quiet = options["json"] or options["verbosity"] == 0
        with tqdm(
            total=len(photos) + len(videos), desc="Indexing originals", unit="file",
            disable=quiet, file=sys.stderr,
        ) as bar:  # fmt: skip

            def advance(_item: str) -> None:
                bar.update()

            built = build_file_index(photos, videos, on_item=advance)
        for skipped, reason in built.skipped:
            self.stderr.write(f"skipped original {skipped}: {reason}")
        results = [screen_file(claim, built.index, context=context) for claim in options["claims"]]
        if options["json"]:
            self.stdout.write(json.dumps(results, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{len(built.index)} originals indexed.\n")
        for result in results:
            self._print(result)

    def _trust_anchors(self, options: dict[str, Any]) -> str | None:
        """The PEM text of the C2PA trust anchors to use (None: no signer is trusted)."""
        path = options["c2pa_trust_anchors"] or settings.C2PA_TRUST_ANCHORS
        if not path:
            return None
        try:
            return read_trust_anchors(str(path))
        except (OSError, ValueError) as exc:
            self._usage(f"--c2pa-trust-anchors: {exc}")
            return None

    def _usage(self, message: str) -> None:
        self.stderr.write(f"screen_claim: error: {message}")
        sys.exit(2)

    def _print(self, result: dict[str, Any]) -> None:
        if "error" in result:
            self.stdout.write(
                self.style.ERROR(f"{result['claim']}: cannot screen — {result['error']}")
            )
            return
        style = {"high": self.style.ERROR, "medium": self.style.WARNING}.get(
            result["level"], self.style.SUCCESS
        )
        self.stdout.write(
            style(f"{result['claim']}: {result['level']} risk (score {result['score']:.2f})")
        )
        for reason in result["reasons"]:
            self.stdout.write(f"  - {reason['message']}")
        if result["region"]:
            x, y, w, h = result["region"]
            self.stdout.write(f"  changed region: x={x} y={y} w={w} h={h}")
        self.stdout.write("")
