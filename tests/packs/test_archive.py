"""The pack's pure parts: which files the caps keep, and the ZIP's manifest and its
verification (no database, files in memory; ``verify_pack`` with no database at all)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packs.archive import MANIFEST, FileChanged, archive_write, evidence_json, pack_verify
from packs.case import PackCase, PackFile, zip_safe
from packs.limits import PackLimits, files_select

BLOBS = {"a": b"claim photo bytes", "b": b"listing photo bytes" * 10, "c": b"still"}


def pack_file(
    name: str, *, priority: int, size: int | None = None, original: bool = True
) -> PackFile:
    data = BLOBS[name]
    return PackFile(
        path=f"originals/{name}.jpg",
        storage_name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data) if size is None else size,
        category="uncategorized_file",
        description=f"file {name}",
        original=original,
        priority=priority,
    )


ROOT = Path(__file__).resolve().parents[2]

CASE = PackCase(
    platform="taobao", external_id="TB-1", order_ref="O-1", buyer_ref="b", reason="坏了",
    claim_type="refund_only", amount="9.90", currency="CNY", status="needs_review",
    risk_level="high", risk_score=0.9, reasons=("broken.jpg: derived from your photo",),
)  # fmt: skip


def write(tmp_path: Path, files: list[PackFile], blobs: dict[str, bytes] = BLOBS) -> Path:
    target = tmp_path / "pack.zip"
    archive_write(
        target,
        report=b"%PDF-1.7 report",
        files=files,
        open_file=lambda name: io.BytesIO(blobs[name]),
        case=CASE,
        left_out=[],
        generated_at=datetime(2026, 11, 26, tzinfo=UTC),
        generated_by="owner",
    )
    return target


def test_caps_keep_the_most_important_files_and_say_what_they_left_out() -> None:
    files = [pack_file("c", priority=40), pack_file("a", priority=11), pack_file("b", priority=21)]
    kept, left = files_select([*files, files[1]], PackLimits(60, max_file_bytes=100, max_files=1))
    assert [f.path for f in kept] == ["originals/a.jpg"]
    reasons = {item.item: item.reason for item in left}
    assert "file cap" in reasons["originals/b.jpg"]  # 190 bytes > 100
    assert "cap of 1 files" in reasons["originals/c.jpg"]
    assert len(left) == 2  # the duplicate path is carried once, not left out


def test_an_intact_pack_verifies_and_lists_every_file(tmp_path: Path) -> None:
    target = write(tmp_path, [pack_file("a", priority=1), pack_file("b", priority=2)])
    assert list(pack_verify(target)) == []
    with zipfile.ZipFile(target) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        evidence = json.loads(zf.read("evidence.json"))
    listed = {e["path"]: e for e in manifest["files"]}
    assert set(listed) == {"report.pdf", "originals/a.jpg", "originals/b.jpg", "evidence.json"}
    assert listed["originals/a.jpg"]["sha256"] == hashlib.sha256(BLOBS["a"]).hexdigest()
    assert evidence["customer_communication"] == "坏了"
    assert evidence["uncategorized_file"][0] == "report.pdf"
    assert evidence["dispute"]["amount"] == "9.90"
    assert evidence["uncategorized_text"].splitlines() == [
        "Verdict: high (0.900)",
        "broken.jpg: derived from your photo",
    ]
    assert manifest["dispute"]["platform_dispute_id"] == "TB-1"


def test_a_medium_verdict_just_under_the_high_bar_is_not_printed_at_it() -> None:
    # The history rule holds such a claim at 0.7499: "0.75" would read as "high".
    held = dataclasses.replace(CASE, risk_level="medium", risk_score=0.7499)

    verdict = evidence_json(held, [])["uncategorized_text"].splitlines()[0]

    assert verdict == "Verdict: medium (0.749)"


def test_an_altered_added_or_missing_file_is_reported(tmp_path: Path) -> None:
    target = write(tmp_path, [pack_file("a", priority=1), pack_file("b", priority=2)])
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(target) as src, zipfile.ZipFile(tampered, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "originals/a.jpg":
                data = bytes([data[0] ^ 1]) + data[1:]
            if info.filename != "originals/b.jpg":
                out.writestr(info, data)
        out.writestr("originals/extra.jpg", b"planted")
    problems = {p.path: p.problem for p in pack_verify(tampered)}
    assert "manifest says" in problems["originals/a.jpg"]
    assert "missing" in problems["originals/b.jpg"]
    assert "not listed" in problems["originals/extra.jpg"]
    assert next(iter(pack_verify(io.BytesIO(b"not a zip")))).problem.startswith(
        "not a readable ZIP"
    )


def test_an_original_that_no_longer_matches_its_upload_hash_stops_the_export(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileChanged):
        write(tmp_path, [pack_file("a", priority=1)], blobs={**BLOBS, "a": b"swapped"})
    # A derived file is re-made, so it is hashed as it is.
    assert list(pack_verify(write(tmp_path, [pack_file("c", priority=1, original=False)]))) == []


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("IMG 01.jpg", "IMG_01.jpg"),
        ("../../etc/passwd", "passwd"),
        ("照片.jpg", "照片.jpg"),
        ("..", "file"),
    ],
)
def test_zip_names_carry_no_path(name: str, safe: str) -> None:
    assert zip_safe(name) == safe


def test_verify_pack_needs_no_database(tmp_path: Path) -> None:
    """The arbitrator runs it on the ZIP alone: a database that cannot be reached (any
    query would fail) changes nothing, and a tampered pack still exits 1."""
    intact = write(tmp_path, [pack_file("a", priority=1)])
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process

    def verify(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", "verify_pack", str(path)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    ok = verify(intact)
    assert ok.returncode == 0, ok.stderr
    assert "all 3 files match the manifest" in ok.stdout
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(intact) as src, zipfile.ZipFile(tampered, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            out.writestr(info, data + b"x" if info.filename == "originals/a.jpg" else data)
    bad = verify(tampered)
    assert bad.returncode == 1
    assert "MISMATCH originals/a.jpg" in bad.stderr
