"""System checks: the PDF report needs Pango (WeasyPrint) and a Chinese font."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from django.core import checks

INSTALL = "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk"


@checks.register()
def pdf_rendering_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn when evidence packs could not render their PDF, or not Chinese text in it."""
    problems: list[checks.CheckMessage] = []
    try:
        from packs.report import _weasyprint

        _weasyprint()
    except OSError as exc:  # WeasyPrint loads Pango with ctypes
        problems.append(
            checks.Warning(
                f"Evidence-pack PDFs cannot be rendered: Pango is missing ({exc}).",
                hint=INSTALL,
                id="packs.W001",
            )
        )
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        found = subprocess.run(
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30
        ).stdout
        if not found.strip():
            problems.append(
                checks.Warning(
                    "No Chinese font is installed: Chinese text in evidence-pack PDFs would "
                    "not render.",
                    hint=INSTALL,
                    id="packs.W002",
                )
            )
    return problems
