"""Where the audit chains' heads are anchored outside the database, and reading them back.

One machine: an append-only log, one JSON line per committed event
(``REFUNDGUARD_AUDIT_ANCHOR_PATH``). Several machines (S3 configured): every head is a
write-once object in ``STORAGES["audit_anchors"]``, so each host writes to, and
``verify_custody`` on any host reads, the same anchors. An object's name carries the
whole anchor (``m<merchant>/<position>-<event>-<hash>.json``): one listing reads a
chain's anchors, a merchant's check lists only that merchant's folder, and a second,
different hash for one event shows as a second name (a rewrite), never as an overwrite.
A log written before S3 was configured is still read, with the objects.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils import timezone

if TYPE_CHECKING:
    from core.audit import ChainHead

logger = logging.getLogger(__name__)

#: The ``STORAGES`` alias of the anchor objects; without it, the local log is used.
ANCHOR_STORAGE = "audit_anchors"
#: The folder of the closed platform-wide chain's anchors (events with no position).
PLATFORM_FOLDER = "platform"
_OBJECT_NAME = re.compile(r"^(?P<place>\d+)-(?P<event>\d+)-(?P<hash>[0-9a-f]{64})\.json$")


@dataclass(frozen=True)
class Anchor:
    """One anchored event: its hash, and its chain and place there (``chain`` is the
    merchant's id and ``seq`` its position; both ``None`` in the platform-wide chain,
    whose place is the event's id: anchors written before per-merchant chains name no
    merchant)."""

    hash: str
    chain: int | None
    seq: int | None


@dataclass
class AnchorsRead:
    """Every anchor read (event id → anchor), the problems met as ``(kind, message)``
    (``unreadable``, ``rewritten``), where they were read from, and whether any anchor
    store exists at all."""

    anchored: dict[int, Anchor] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    found: bool = False

    def add(self, event: int, anchor: Anchor, where: str) -> None:
        """One anchor; the same event anchored with another hash is a rewrite."""
        if self.anchored.setdefault(event, anchor).hash != anchor.hash:
            self.problems.append(
                ("rewritten", f"event {event} is anchored with two hashes ({where})")
            )


def anchor_storage() -> Storage | None:
    """The storage of the anchor objects, when one is configured (S3)."""
    return storages[ANCHOR_STORAGE] if ANCHOR_STORAGE in settings.STORAGES else None


def anchor_object_name(head: ChainHead) -> str:
    """The object that anchors ``head``: its chain's folder, then place, event and hash."""
    if head.seq is None:
        return f"{PLATFORM_FOLDER}/{head.event:012d}-{head.event}-{head.hash}.json"
    return f"m{head.merchant}/{head.seq:012d}-{head.event}-{head.hash}.json"


def anchor_append(head: ChainHead) -> None:
    """Anchor the chain head: a write-once object when S3 is configured, else one JSON
    line appended to the local log, flushed to disk.

    A failure is logged, never raised: the event is committed already, and a missing
    anchor only narrows what ``verify_custody`` can prove (it is never a false alarm)."""
    line = json.dumps({**head.as_json(), "anchored_at": timezone.now().isoformat()}) + "\n"
    storage = anchor_storage()
    if storage is not None:
        name = anchor_object_name(head)
        try:
            storage.save(name, ContentFile(line.encode()))
        except FileExistsError:
            pass  # anchored already, with this very hash (it is in the name)
        except OSError:
            logger.exception("audit anchor of event %s not written as %s", head.event, name)
        return
    path = Path(settings.REFUNDGUARD_AUDIT_ANCHOR_PATH)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: one write per line, so concurrent processes never interleave lines.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        logger.exception("audit anchor of event %s not written to %s", head.event, path)


def _log_read(path: Path, read: AnchorsRead) -> None:
    """The anchors of the local log, if there is one."""
    if not path.exists():
        return
    read.found = True
    read.sources.append(str(path))
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    entry = json.loads(raw)
                    event, digest = int(entry["event"]), str(entry["hash"])
                    seq = None if entry.get("seq") is None else int(entry["seq"])
                    chain = None if seq is None else int(entry["merchant"])
                except (ValueError, KeyError, TypeError):
                    read.problems.append(
                        ("unreadable", f"line {number} of {path} is not an anchor")
                    )
                    continue
                read.add(event, Anchor(digest, chain, seq), f"{path}:{number}")
    except OSError as exc:
        read.problems.append(("unreadable", f"{path}: {exc}"))


def _folder_read(storage: Storage, folder: str, read: AnchorsRead) -> None:
    """The anchor objects of one chain's folder (``m<id>`` or the platform's)."""
    chain = None if folder == PLATFORM_FOLDER else int(folder[1:])
    for name in storage.listdir(folder)[1]:
        parsed = _OBJECT_NAME.match(name)
        if parsed is None:
            read.problems.append(("unreadable", f"{folder}/{name} is not an anchor"))
            continue
        read.found = True
        place, event = int(parsed["place"]), int(parsed["event"])
        seq = None if chain is None else place
        read.add(event, Anchor(parsed["hash"], chain, seq), f"{folder}/{name}")


def _objects_read(
    storage: Storage, read: AnchorsRead, *, merchant: int | None, platform: bool
) -> None:
    """The anchor objects: every chain's, or ``merchant``'s (and the platform chain's)."""
    read.sources.append(_storage_label(storage))
    try:
        if merchant is None:
            folders = [
                f
                for f in storage.listdir("")[0]
                if f == PLATFORM_FOLDER or re.fullmatch(r"m\d+", f)
            ]
        else:
            folders = [f"m{merchant}"] + ([PLATFORM_FOLDER] if platform else [])
        for folder in folders:
            _folder_read(storage, folder, read)
    except OSError as exc:
        read.found = True  # configured but unreadable: a problem, not "no anchors"
        read.problems.append(("unreadable", f"{_storage_label(storage)}: {exc}"))


def _storage_label(storage: Storage) -> str:
    bucket: Any = getattr(storage, "bucket_name", None)
    location: Any = getattr(storage, "location", "")
    return f"s3://{bucket}/{location}".rstrip("/") if bucket else type(storage).__name__


def anchors_read(
    path: Path | None = None, *, merchant: int | None = None, platform: bool = True
) -> AnchorsRead:
    """Every anchor of the local log (``path``, default the setting) and of the anchor
    objects; with ``merchant``, the objects of that merchant's chain (and of the
    platform-wide chain when ``platform``) are listed, the rest left alone."""
    read = AnchorsRead()
    _log_read(Path(settings.REFUNDGUARD_AUDIT_ANCHOR_PATH if path is None else path), read)
    storage = anchor_storage()
    if storage is not None:
        _objects_read(storage, read, merchant=merchant, platform=platform)
    return read
