"""The pack's ZIP: the report, the files byte for byte, ``manifest.json`` (every file's
SHA-256, size, upload time and uploader) and ``evidence.json`` (the dispute in payment
processors' evidence vocabulary); and its verification. Pure: files in, bytes out; it
imports nothing that touches Django or the database (an import-linter contract), so
``verify_pack`` needs no database.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from forensics.findings import score_text
from packs.case import (
    CUSTOMER_COMMUNICATION,
    PRODUCT_DESCRIPTION,
    SHIPPING_DOCUMENTATION,
    UNCATEGORIZED_FILE,
    UNCATEGORIZED_TEXT,
    PackCase,
    PackFile,
)
from packs.limits import LeftOut

MANIFEST = "manifest.json"
EVIDENCE = "evidence.json"
REPORT = "report.pdf"
MANIFEST_FORMAT = "refundguard-evidence-pack/1"
_CHUNK = 1024 * 1024


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def evidence_json(case: PackCase, files: list[PackFile]) -> dict[str, Any]:
    """The dispute as dispute-evidence fields (Stripe's names), files by ZIP path."""
    by_category: dict[str, list[str]] = {}
    for item in files:
        by_category.setdefault(item.category, []).append(item.path)
    statement = (
        [f"Merchant's statement: {case.merchant_statement}"] if case.merchant_statement else []
    )
    return {
        PRODUCT_DESCRIPTION: case.product,
        "product_description_files": by_category.get(PRODUCT_DESCRIPTION, []),
        "customer_name": case.buyer_ref,
        CUSTOMER_COMMUNICATION: case.reason,
        "customer_communication_files": by_category.get(CUSTOMER_COMMUNICATION, []),
        SHIPPING_DOCUMENTATION: by_category.get(SHIPPING_DOCUMENTATION, []),
        UNCATEGORIZED_FILE: [REPORT, *by_category.get(UNCATEGORIZED_FILE, [])],
        UNCATEGORIZED_TEXT: "\n".join(
            [
                # Cut, not rounded: a "medium" 0.7499 must not read as the 0.75 of "high".
                f"Verdict: {case.risk_level or 'not scored'} ({score_text(case.risk_score or 0)})",
                *case.reasons,
                *statement,
            ]
        ),
        "dispute": {
            "platform": case.platform,
            "platform_dispute_id": case.external_id,
            "order_number": case.order_ref,
            "claim_type": case.claim_type,
            "amount": case.amount,
            "currency": case.currency,
            "opened_at": _iso(case.opened_at),
            "respond_by": _iso(case.respond_by),
            "status": case.status,
        },
    }


@dataclass(frozen=True)
class WrittenArchive:
    """The ZIP's bytes hash and size, and the manifest it carries."""

    sha256: str
    size: int
    manifest: dict[str, Any]


def _hashing_copy(source: IO[bytes], target: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: source.read(_CHUNK), b""):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class FileChanged(Exception):
    """A stored original no longer has the SHA-256 recorded at upload."""


def archive_write(
    target: Path,
    *,
    report: bytes,
    files: list[PackFile],
    open_file: Callable[[str], IO[bytes]],
    case: PackCase,
    left_out: list[LeftOut],
    generated_at: datetime,
    generated_by: str,
    progress: Callable[[int, int], None] | None = None,
    audit_head: dict[str, Any] | None = None,
) -> WrittenArchive:
    """Write the ZIP to ``target``. Originals are streamed in and re-hashed as they go:
    one that no longer matches its recorded SHA-256 stops the export (``FileChanged``).
    ``audit_head`` (the newest event of the merchant's audit chain: id, hash, time,
    merchant, position) goes into the manifest, so the pack itself anchors the chain as it
    was when the pack was built."""
    entries: list[dict[str, Any]] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr(REPORT, report)
        entries.append(
            {"path": REPORT, "sha256": hashlib.sha256(report).hexdigest(), "size": len(report),
             "kind": "report", "uploaded_at": _iso(generated_at), "uploaded_by": generated_by}
        )  # fmt: skip
        for done, item in enumerate(files, start=1):
            # Media is already compressed: storing it is as small and much faster.
            info = zipfile.ZipInfo(item.path, date_time=generated_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            with (
                open_file(item.storage_name) as source,
                zf.open(info, "w", force_zip64=True) as out,
            ):
                sha256, size = _hashing_copy(source, out)
            if item.original and sha256 != item.sha256:
                raise FileChanged(
                    f"{item.path}: stored file hashes to {sha256}, not the {item.sha256} "
                    "recorded at upload"
                )
            entries.append(
                {"path": item.path, "sha256": sha256, "size": size,
                 "kind": "original" if item.original else "derived",
                 "evidence_field": item.category, "description": item.description,
                 "uploaded_at": _iso(item.uploaded_at), "uploaded_by": item.uploaded_by}
            )  # fmt: skip
            if progress is not None:
                progress(done, len(files))
        evidence = json.dumps(evidence_json(case, files), ensure_ascii=False, indent=2)
        zf.writestr(EVIDENCE, evidence)
        entries.append(
            {"path": EVIDENCE, "sha256": hashlib.sha256(evidence.encode()).hexdigest(),
             "size": len(evidence.encode()), "kind": "metadata"}
        )  # fmt: skip
        manifest = {
            "format": MANIFEST_FORMAT,
            "dispute": {
                "platform": case.platform,
                "platform_dispute_id": case.external_id,
                "order_number": case.order_ref,
            },
            "generated_at": _iso(generated_at),
            "generated_by": generated_by,
            "files": entries,
            "left_out": [item.as_json() for item in left_out],
            "audit_chain_head": audit_head,
        }
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    digest = hashlib.sha256()
    with target.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return WrittenArchive(digest.hexdigest(), target.stat().st_size, manifest)


@dataclass(frozen=True)
class PackProblem:
    """One thing wrong with a pack: the file and what is wrong with it."""

    path: str
    problem: str


def _member_hash(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with zf.open(name) as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def pack_verify(source: Path | IO[bytes]) -> Iterator[PackProblem]:
    """Re-hash every file of a pack against its manifest; yield each mismatch, missing
    file and file the manifest does not list (nothing when the pack is intact)."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        yield PackProblem(str(source), f"not a readable ZIP file ({exc})")
        return
    with zf:
        try:
            manifest = json.loads(zf.read(MANIFEST))
            listed = {entry["path"]: entry for entry in manifest["files"]}
        except (KeyError, ValueError, TypeError) as exc:
            yield PackProblem(MANIFEST, f"missing or unreadable ({exc})")
            return
        present = set(zf.namelist())
        for path, entry in listed.items():
            if path not in present:
                yield PackProblem(path, "listed in the manifest but missing from the ZIP")
                continue
            try:
                sha256, size = _member_hash(zf, path)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                yield PackProblem(path, f"cannot be read ({exc})")
                continue
            if sha256 != entry.get("sha256"):
                yield PackProblem(
                    path, f"SHA-256 is {sha256}, the manifest says {entry.get('sha256')}"
                )
            elif size != entry.get("size"):
                yield PackProblem(path, f"size is {size}, the manifest says {entry.get('size')}")
        for path in sorted(present - set(listed) - {MANIFEST}):
            yield PackProblem(path, "in the ZIP but not listed in the manifest")
