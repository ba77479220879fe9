"""The caps a pack obeys (pages, file size, file count) and what they leave out.

Pure: imports nothing that touches Django or the database (an import-linter contract).
"""

from __future__ import annotations

from dataclasses import dataclass

from packs.case import PackFile


@dataclass(frozen=True)
class PackLimits:
    """Where the pack goes decides these (card networks take e.g. 5 files of 5 MB)."""

    max_pages: int
    max_file_bytes: int
    max_files: int


@dataclass(frozen=True)
class LeftOut:
    """Something the caps kept out of the pack, and why (listed in the PDF and manifest)."""

    item: str
    reason: str
    sha256: str = ""
    size: int = 0

    def as_json(self) -> dict[str, object]:
        """The manifest's form of this entry."""
        return {"item": self.item, "reason": self.reason, "sha256": self.sha256, "size": self.size}


def files_select(files: list[PackFile], limits: PackLimits) -> tuple[list[PackFile], list[LeftOut]]:
    """The files the archive carries, most important first, and those left out.

    One copy per ZIP path; a file over the size cap is left out, then the count cap keeps
    the most important ones (claim photos, matched originals, derived images, stills,
    videos — ``PackFile.priority``). The report and the two JSON files are not counted."""
    unique: dict[str, PackFile] = {}
    for item in files:
        unique.setdefault(item.path, item)
    kept: list[PackFile] = []
    left: list[LeftOut] = []
    for item in sorted(unique.values(), key=lambda f: (f.priority, f.path)):
        if item.size > limits.max_file_bytes:
            reason = f"larger than the {limits.max_file_bytes:,}-byte file cap"
        elif len(kept) >= limits.max_files:
            reason = f"over the cap of {limits.max_files} files"
        else:
            kept.append(item)
            continue
        left.append(LeftOut(item.path, reason, item.sha256, item.size))
    return kept, left
