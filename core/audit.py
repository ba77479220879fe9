"""Appending to the hash-chained audit trail (the only way events are written), its
anchors outside the database, and their verification.

Each merchant has its own chain: an event carries its position there (``seq``, from 1)
and the hash of the merchant's event before it (``GENESIS`` for the first). Appends are
serialised per chain, so one merchant's open transaction never holds up another's.
Events recorded before the chains were per merchant (no ``seq``) stay in the one
platform-wide chain they were written in, in id order and unchanged: it is closed (no
event may join it) and verifies as it always did, against the anchors and evidence packs
that recorded its hashes.

Each event is chained by HMAC-SHA256 under ``REFUNDGUARD_AUDIT_KEY`` (events of the
platform-wide chain written before it was keyed keep their plain SHA-256 hash; none may
follow a keyed one, and a merchant's chain is keyed throughout). After each event
commits, its chain's new head is anchored outside the database (``core.audit_anchors``:
the local anchor log, or write-once objects every host shares), where the database cannot
rewrite it: an anchored event that is gone, or whose hash changed, shows truncation or a
rewritten chain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from core.audit_anchors import anchor_append, anchors_read
from core.models import AuditEvent, Merchant
from core.request_context import client_ip

GENESIS = "0" * 64
#: The high 32 bits of every chain lock's key (arbitrary, fixed); the low 32 bits are the
#: merchant's id, so ``pg_locks`` shows a chain's lock as classid = this, objid = the id.
CHAIN_LOCK_NAMESPACE = 0x6A8D_21F3


def chain_lock_key(merchant_id: int) -> int:
    """The PostgreSQL advisory lock key of a merchant's chain (a signed 64-bit integer).

    Ids past 2**32 share a key with a smaller one: those two merchants would wait on each
    other, nothing worse (the lock only orders appends; the unique position forbids forks)."""
    return (CHAIN_LOCK_NAMESPACE << 32) | (merchant_id & 0xFFFF_FFFF)


def _chain_lock(merchant_id: int) -> None:
    """Hold the lock of the merchant's chain until the surrounding transaction ends.

    PostgreSQL: a transaction-level advisory lock on the merchant's key. It needs no row,
    ends with the transaction (commit, rollback or a dropped connection) and works behind
    a transaction-pooling proxy. A row lock would not do as well: the newest event is the
    wrong row (a waiter wakes holding the row it waited for, not the one committed
    meanwhile, and two events would chain to the same parent); a chain-head row must exist
    before the merchant's first event (its creation races) and be rewritten by every
    event; FOR UPDATE on the merchant's row would also block every insert that references
    the merchant (foreign keys take KEY SHARE on it).
    SQLite runs one writing transaction at a time (``transaction_mode`` IMMEDIATE in the
    settings): there is nothing to add. On both, the unique (merchant, seq) turns a fork
    that no lock prevented (say, a caller reading a stale head under REPEATABLE READ)
    into an ``IntegrityError``.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [chain_lock_key(merchant_id)])


def _merchant_chain(merchant_id: int) -> QuerySet[AuditEvent]:
    """The events of a merchant's chain (the partial unique index on (merchant, seq))."""
    return AuditEvent.objects.filter(merchant_id=merchant_id, seq__isnull=False)


def _platform_chain() -> QuerySet[AuditEvent]:
    """The closed platform-wide chain: every event from before the per-merchant chains."""
    return AuditEvent.objects.filter(seq__isnull=True)


def audit_record(
    *,
    merchant: Merchant,
    action: str,
    actor: Any | None = None,
    dispute: Any | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the merchant's chain, after the merchant's newest event
    (serialised per merchant: other merchants' appends do not wait for this one).
    ``dispute`` is the ``disputes.Dispute`` the event concerns (core imports no app)."""
    with transaction.atomic():
        _chain_lock(merchant.pk)
        # Read the head only once the lock is held: a fresh statement sees every event
        # committed by whoever held the lock before (no fork of the chain).
        last = _merchant_chain(merchant.pk).order_by("-seq").only("seq", "hash").first()
        event = AuditEvent(
            merchant=merchant,
            seq=last.seq + 1 if last is not None and last.seq is not None else 1,
            dispute=dispute,
            actor=actor if actor is not None and actor.is_authenticated else None,
            action=action,
            data=data or {},
            ip=client_ip.get(),
            created_at=timezone.now(),
            prev_hash=last.hash if last is not None else GENESIS,
            hash_scheme=AuditEvent.HashScheme.HMAC_SHA256,
        )
        event.hash = event.compute_hash()
        event.save()
        # Tied to this savepoint: a rolled-back event is never anchored.
        transaction.on_commit(partial(anchor_append, ChainHead.of(event)), robust=True)
    return event


@dataclass(frozen=True)
class ChainHead:
    """The newest event of a chain: what the anchor log and evidence packs record.
    ``seq`` is its position in ``merchant``'s chain (``None``: the closed platform-wide
    chain, whose events carry their merchant but no position)."""

    event: int
    hash: str
    at: datetime
    scheme: str
    merchant: int
    seq: int | None

    @classmethod
    def of(cls, event: AuditEvent) -> ChainHead:
        """The head that ``event`` makes of its chain."""
        return cls(
            event=event.pk,
            hash=event.hash,
            at=event.created_at,
            scheme=event.hash_scheme,
            merchant=event.merchant_id,
            seq=event.seq,
        )

    def as_json(self) -> dict[str, Any]:
        """Plain data (for the anchor log, ``manifest.json`` and the PDF)."""
        return {
            "event": self.event,
            "hash": self.hash,
            "at": self.at.isoformat(),
            "scheme": self.scheme,
            "merchant": self.merchant,
            "seq": self.seq,
        }


def audit_chain_head(merchant_id: int) -> ChainHead | None:
    """The newest event of the merchant's chain. A merchant with no event there yet gets
    its newest event of the closed platform-wide chain (whose hash covers all before
    it); ``None`` when the merchant has no event at all."""
    fields = ("merchant_id", "seq", "hash", "created_at", "hash_scheme")
    last = _merchant_chain(merchant_id).order_by("-seq").only(*fields).first()
    if last is None:
        last = (
            _platform_chain().filter(merchant_id=merchant_id).order_by("-id").only(*fields).first()
        )
    return ChainHead.of(last) if last is not None else None


@dataclass(frozen=True)
class ChainBreak:
    """An event that does not verify, in which chain (``chain``: the merchant's id, or
    ``None`` for the closed platform-wide chain), and why: ``link`` (its previous hash is
    not its chain's event before it), ``position`` (its position is not the one after
    that event's), ``hash`` (its content does not hash to it, under the key for a keyed
    event), ``downgrade`` (unkeyed where only keyed events may be), ``scheme`` (unknown)
    or ``closed`` (in the platform-wide chain, but newer than the per-merchant chains)."""

    event: int
    reason: str
    chain: int | None


def _scope_has_platform_chain(merchant: int | None) -> bool:
    """Whether a check of ``merchant`` (``None``: everything) covers the platform-wide
    chain: it is one chain, checked whole, when any event of the scope is in it."""
    events = _platform_chain() if merchant is None else _platform_chain().filter(merchant=merchant)
    return events.exists()


def _platform_chain_check(key: str | None) -> Iterator[ChainBreak]:
    """The closed platform-wide chain, walked in id order as it was written."""
    # Nothing joins it once the per-merchant chains began (the model and, on PostgreSQL,
    # a trigger refuse a new event without a position).
    closed_at = AuditEvent.objects.filter(seq__isnull=False).aggregate(first=Min("id"))["first"]
    previous = GENESIS
    keyed_since = False
    for event in _platform_chain().order_by("id").iterator():
        keyed = event.hash_scheme == AuditEvent.HashScheme.HMAC_SHA256
        keyed_since = keyed_since or keyed
        if event.prev_hash != previous:
            yield ChainBreak(event.pk, "link", None)
        elif closed_at is not None and event.pk > closed_at:
            yield ChainBreak(event.pk, "closed", None)
        elif event.hash_scheme not in AuditEvent.HashScheme.values:
            yield ChainBreak(event.pk, "scheme", None)
        elif keyed_since and not keyed:
            # A rewriter without the key could otherwise "re-hash" newer events unkeyed.
            yield ChainBreak(event.pk, "downgrade", None)
        elif event.compute_hash(key) != event.hash:
            yield ChainBreak(event.pk, "hash", None)
        previous = event.hash


def _merchant_chain_check(
    merchant: int, events: Iterable[AuditEvent], key: str | None
) -> Iterator[ChainBreak]:
    """One merchant's chain, walked by position: keyed throughout, from ``GENESIS``."""
    previous, position = GENESIS, 0
    for event in events:
        if event.prev_hash != previous:
            yield ChainBreak(event.pk, "link", merchant)
        elif event.seq != position + 1:
            yield ChainBreak(event.pk, "position", merchant)
        elif event.hash_scheme not in AuditEvent.HashScheme.values:
            yield ChainBreak(event.pk, "scheme", merchant)
        elif event.hash_scheme != AuditEvent.HashScheme.HMAC_SHA256:
            # Born keyed: an unkeyed event here is a rewrite by someone without the key.
            yield ChainBreak(event.pk, "downgrade", merchant)
        elif event.compute_hash(key) != event.hash:
            yield ChainBreak(event.pk, "hash", merchant)
        previous, position = event.hash, event.seq or 0


def audit_chain_check(*, key: str | None = None, merchant: int | None = None) -> list[ChainBreak]:
    """Every event whose link, position, hash or scheme does not verify, chain by chain:
    the platform-wide chain first, then each merchant's (empty when all are whole).
    ``merchant`` checks that merchant's chain only, and the platform-wide chain when the
    merchant has events in it."""
    broken: list[ChainBreak] = []
    if _scope_has_platform_chain(merchant):
        broken.extend(_platform_chain_check(key))
    events = AuditEvent.objects.filter(seq__isnull=False)
    if merchant is not None:
        events = events.filter(merchant_id=merchant)
    ordered = events.order_by("merchant_id", "seq").iterator()
    for merchant_id, chain in groupby(ordered, key=attrgetter("merchant_id")):
        broken.extend(_merchant_chain_check(merchant_id, chain, key))
    return broken


def audit_chain_breaks() -> list[int]:
    """Ids of events whose hash or link does not verify (empty when every chain is whole)."""
    return [item.event for item in audit_chain_check()]


def chain_names(chains: Iterable[int | None]) -> dict[int | None, str]:
    """How reports name each chain: ``merchant <slug>`` (by id when the merchant is
    gone), or the platform-wide chain of the events from before per-merchant chains."""
    ids = {chain for chain in chains if chain is not None}
    slugs = dict(Merchant.objects.filter(pk__in=ids).values_list("pk", "slug"))
    names: dict[int | None, str] = {
        None: "the platform-wide chain (events before per-merchant chains)"
    }
    names.update({chain: f"merchant {slugs.get(chain, f'id {chain}')}'s chain" for chain in ids})
    return names


@dataclass(frozen=True)
class AnchorCheck:
    """What the anchors say of the table: where they were read (``where``), how many were
    read, and each problem as ``(kind, message)``: ``truncated``, ``missing``,
    ``rewritten``, ``unreadable``. ``found`` is false when there are no anchors at all
    (nothing could be checked)."""

    where: str
    found: bool
    anchors: int
    problems: list[tuple[str, str]]


def audit_anchor_check(path: Path | None = None, *, merchant: int | None = None) -> AnchorCheck:
    """Compare the anchors (``core.audit_anchors``: the log at ``path``, default the
    setting, and the shared anchor objects) with the table, chain by chain: every
    anchored event must still exist with the anchored hash, and none may be further along
    its chain than the chain's newest event in the table (truncation). ``merchant``
    narrows it to what ``audit_chain_check(merchant=…)`` walks."""
    platform = merchant is None or _scope_has_platform_chain(merchant)
    read = anchors_read(path, merchant=merchant, platform=platform)
    where = " and ".join(read.sources) or str(settings.REFUNDGUARD_AUDIT_ANCHOR_PATH)
    if not read.found:
        return AnchorCheck(where, found=False, anchors=0, problems=read.problems)
    anchored, problems = read.anchored, read.problems
    rows = AuditEvent.objects.order_by("id").values_list("id", "merchant_id", "seq", "hash")
    if merchant is not None:
        anchored = {
            event: anchor
            for event, anchor in anchored.items()
            if anchor.chain == merchant or (platform and anchor.chain is None)
        }
        scope = Q(merchant_id=merchant, seq__isnull=False)
        rows = rows.filter(scope | Q(seq__isnull=True) if platform else scope)
    count = len(anchored)
    # Each chain's newest place in the table: a position, or an id in the platform chain.
    newest: dict[int | None, int] = defaultdict(int)
    for event, merchant_id, seq, digest in rows.iterator():
        chain = None if seq is None else merchant_id
        newest[chain] = max(newest[chain], event if seq is None else seq)
        expected = anchored.pop(event, None)
        if expected is not None and expected.hash != digest:
            problems.append(
                ("rewritten", f"event {event} has hash {digest}, anchored as {expected.hash}")
            )
    # What is left was anchored once and is gone: deleted from a chain's end, or its middle.
    gone: dict[int | None, list[tuple[int, int]]] = defaultdict(list)
    for event, anchor in anchored.items():
        gone[anchor.chain].append((event if anchor.seq is None else anchor.seq, event))
    names = chain_names(gone)
    for chain in sorted(gone, key=lambda item: -1 if item is None else item):
        top = newest[chain]
        beyond = sorted(place for place in gone[chain] if place[0] > top)
        if beyond:
            place, event = beyond[-1]
            where = "" if chain is None else f" (no. {place})"
            last = "none" if not top else (str(top) if chain is None else f"no. {top}")
            problems.append(
                ("truncated", f"the anchor log names event {event}{where} of {names[chain]} "
                 f"but its newest event in the database is {last}: {len(beyond)} anchored "
                 "event(s) deleted")
            )  # fmt: skip
        problems.extend(
            ("missing", f"anchored event {event} of {names[chain]} is not in the database")
            for place, event in sorted(gone[chain])
            if place <= top
        )
    return AnchorCheck(where, found=True, anchors=count, problems=problems)
