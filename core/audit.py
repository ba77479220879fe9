"""Appending to the hash-chained audit trail (the only way events are written)."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core.models import AuditEvent, Merchant
from core.request_context import client_ip

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
        )
        event.hash = event.compute_hash()
        event.save()
    return event


def audit_chain_breaks() -> list[int]:
    """Ids of events whose hash or link does not verify (empty when the chain is whole)."""
    broken = []
    previous = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator():
        if event.prev_hash != previous or event.compute_hash() != event.hash:
            broken.append(event.pk)
        previous = event.hash
    return broken
