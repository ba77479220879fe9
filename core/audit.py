"""Appending to the hash-chained audit trail (the only way events are written), its
anchors outside the database, and their verification.

Each event is chained by HMAC-SHA256 under ``REFUNDGUARD_AUDIT_KEY`` (events written
before the chain was keyed keep their plain SHA-256 hash; none may follow a keyed one).
After each event commits, the chain head is appended to the anchor log
(``REFUNDGUARD_AUDIT_ANCHOR_PATH``), which the database cannot rewrite: an anchored event
that is gone, or whose hash changed, shows truncation or a rewritten chain.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.models import AuditEvent, Merchant
from core.request_context import client_ip

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
#: Arbitrary, fixed key of the PostgreSQL advisory lock that serialises appends.
CHAIN_LOCK_KEY = 7_140_219_881


def _chain_lock() -> None:
    """Hold the append lock until the surrounding transaction ends.

    PostgreSQL: a transaction-level advisory lock. (Locking the newest row with
    SELECT … FOR UPDATE is not enough: a waiter wakes up holding the row it waited for,
    not the one committed meanwhile, and two events would chain to the same parent.)
    SQLite already runs one writing transaction at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def audit_record(
    *,
    merchant: Merchant,
    action: str,
    actor: Any | None = None,
    dispute: Any | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event, chained to the latest one (serialised by a row lock).
    ``dispute`` is the ``disputes.Dispute`` the event concerns (core imports no app)."""
    with transaction.atomic():
        _chain_lock()
        # Read the head only once the lock is held: a fresh statement sees every event
        # committed by whoever held the lock before (no fork of the chain).
        last = AuditEvent.objects.order_by("-id").only("hash").first()
        event = AuditEvent(
            merchant=merchant,
            dispute=dispute,
            actor=actor if actor is not None and actor.is_authenticated else None,
            action=action,
            data=data or {},
            ip=client_ip.get(),
            created_at=timezone.now(),
            prev_hash=last.hash if last else GENESIS,
            hash_scheme=AuditEvent.HashScheme.HMAC_SHA256,
        )
        event.hash = event.compute_hash()
        event.save()
        # Tied to this savepoint: a rolled-back event is never anchored.
        transaction.on_commit(partial(anchor_append, ChainHead.of(event)), robust=True)
    return event


@dataclass(frozen=True)
class ChainHead:
    """The newest event of the chain: what the anchor log and evidence packs record."""

    event: int
    hash: str
    at: datetime
    scheme: str

    @classmethod
    def of(cls, event: AuditEvent) -> ChainHead:
        """The head that ``event`` makes of the chain."""
        return cls(event=event.pk, hash=event.hash, at=event.created_at, scheme=event.hash_scheme)

    def as_json(self) -> dict[str, Any]:
        """Plain data (for the anchor log, ``manifest.json`` and the PDF)."""
        return {
            "event": self.event,
            "hash": self.hash,
            "at": self.at.isoformat(),
            "scheme": self.scheme,
        }


def audit_chain_head() -> ChainHead | None:
    """The newest event of the chain, or ``None`` while it is empty."""
    last = AuditEvent.objects.order_by("-id").only("hash", "created_at", "hash_scheme").first()
    return ChainHead.of(last) if last is not None else None


def anchor_append(head: ChainHead) -> None:
    """Append the chain head to the anchor log as one JSON line, flushed to disk.

    A failure is logged, never raised: the event is committed already, and a missing
    anchor only narrows what ``verify_custody`` can prove (it is never a false alarm)."""
    path = Path(settings.REFUNDGUARD_AUDIT_ANCHOR_PATH)
    line = json.dumps({**head.as_json(), "anchored_at": timezone.now().isoformat()}) + "\n"
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


@dataclass(frozen=True)
class ChainBreak:
    """An event that does not verify, and why: ``link`` (its previous hash is not the
    event before it), ``hash`` (its content does not hash to it, under the key for a
    keyed event), ``downgrade`` (unkeyed after a keyed event) or ``scheme`` (unknown)."""

    event: int
    reason: str


def audit_chain_check(*, key: str | None = None) -> list[ChainBreak]:
    """Every event whose link, hash or scheme does not verify (empty when whole)."""
    broken: list[ChainBreak] = []
    previous = GENESIS
    keyed_since: int | None = None
    for event in AuditEvent.objects.order_by("id").iterator():
        keyed = event.hash_scheme == AuditEvent.HashScheme.HMAC_SHA256
        if keyed and keyed_since is None:
            keyed_since = event.pk
        if event.prev_hash != previous:
            broken.append(ChainBreak(event.pk, "link"))
        elif event.hash_scheme not in AuditEvent.HashScheme.values:
            broken.append(ChainBreak(event.pk, "scheme"))
        elif keyed_since is not None and not keyed:
            # A rewriter without the key could otherwise "re-hash" newer events unkeyed.
            broken.append(ChainBreak(event.pk, "downgrade"))
        elif event.compute_hash(key) != event.hash:
            broken.append(ChainBreak(event.pk, "hash"))
        previous = event.hash
    return broken


def audit_chain_breaks() -> list[int]:
    """Ids of events whose hash or link does not verify (empty when the chain is whole)."""
    return [item.event for item in audit_chain_check()]


@dataclass(frozen=True)
class AnchorCheck:
    """What the anchor log says of the table: how many anchors were read, and each
    problem as ``(kind, message)``: ``truncated``, ``missing``, ``rewritten``, ``unreadable``.
    ``found`` is false when there is no anchor log at all (nothing could be checked)."""

    path: Path
    found: bool
    anchors: int
    problems: list[tuple[str, str]]


def _anchors_read(path: Path) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """Anchored event id → hash, and the lines that could not be read."""
    anchored: dict[int, str] = {}
    problems: list[tuple[str, str]] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                entry = json.loads(raw)
                event, digest = int(entry["event"]), str(entry["hash"])
            except (ValueError, KeyError, TypeError):
                problems.append(("unreadable", f"line {number} of {path} is not an anchor"))
                continue
            if anchored.setdefault(event, digest) != digest:
                problems.append(
                    ("rewritten", f"event {event} is anchored with two hashes ({path}:{number})")
                )
    return anchored, problems


def audit_anchor_check(path: Path | None = None) -> AnchorCheck:
    """Compare the anchor log with the table: every anchored event must still exist with
    the anchored hash, and none may be newer than the table's newest event (truncation)."""
    path = Path(settings.REFUNDGUARD_AUDIT_ANCHOR_PATH if path is None else path)
    if not path.exists():
        return AnchorCheck(path, found=False, anchors=0, problems=[])
    try:
        anchored, problems = _anchors_read(path)
    except OSError as exc:
        return AnchorCheck(path, found=True, anchors=0, problems=[("unreadable", str(exc))])
    count = len(anchored)
    newest = 0
    rows = AuditEvent.objects.order_by("id").values_list("id", "hash")
    for event, digest in rows.iterator():
        newest = event
        expected = anchored.pop(event, None)
        if expected is not None and expected != digest:
            problems.append(
                ("rewritten", f"event {event} has hash {digest}, anchored as {expected}")
            )
    # What is left was anchored once and is gone: deleted from the end, or from the middle.
    beyond = sorted(event for event in anchored if event > newest)
    if beyond:
        problems.append(
            ("truncated", f"the anchor log names event {beyond[-1]} but the newest event in "
             f"the database is {newest or 'none'}: {len(beyond)} anchored event(s) deleted")
        )  # fmt: skip
    problems.extend(
        ("missing", f"anchored event {event} is not in the database")
        for event in sorted(anchored)
        if event <= newest
    )
    return AnchorCheck(path, found=True, anchors=count, problems=problems)
