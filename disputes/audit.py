"""Appending to the hash-chained audit trail (the only way events are written)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from config.request_context import client_ip
from disputes.models import AuditEvent, Dispute
from evidence.models import Merchant

GENESIS = "0" * 64


def audit_record(
    *,
    merchant: Merchant,
    action: str,
    actor: Any | None = None,
    dispute: Dispute | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event, chained to the latest one (serialised by a row lock)."""
    with transaction.atomic():
        last = AuditEvent.objects.select_for_update().order_by("-id").first()
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
