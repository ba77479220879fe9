"""The keyed audit chain: events hashed by HMAC under REFUNDGUARD_AUDIT_KEY, events
written before the key existed still verifying, no unkeyed event after a keyed one, and
each committed event's head appended to the anchor log outside the database."""

from __future__ import annotations

import json
import logging
from contextlib import suppress
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.audit import GENESIS, ChainBreak, audit_chain_breaks, audit_chain_check, audit_record
from core.models import AuditEvent

SHA256 = AuditEvent.HashScheme.SHA256
KEYED = AuditEvent.HashScheme.HMAC_SHA256
BEFORE_THE_KEY = ("core", "0002_auditevent")


def _anchors(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.django_db
def test_new_events_are_keyed_and_verify_only_under_the_key(membership, settings):
    event = audit_record(merchant=membership.merchant, action="test.keyed", data={"n": 1})
    assert event.hash_scheme == KEYED
    assert event.compute_hash() == event.hash
    assert event.compute_hash(key="another key") != event.hash
    settings.REFUNDGUARD_AUDIT_KEY = "another key"
    assert audit_chain_breaks() == [event.pk]


@pytest.mark.django_db(transaction=True)
def test_events_from_before_the_key_keep_verifying_and_keyed_ones_follow(membership, capsys):
    """The real migration: a row written before it becomes an unkeyed event (on
    PostgreSQL with the append-only trigger in place: adding the column updates no row)."""
    merchant = membership.merchant
    legacy = AuditEvent(
        merchant=merchant,
        action="evidence.viewed",
        data={"before": "the key"},
        created_at=timezone.now(),
        prev_hash=GENESIS,
        hash_scheme=SHA256,
    )
    legacy.hash = legacy.compute_hash()
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE_THE_KEY])
    try:
        old = executor.loader.project_state([BEFORE_THE_KEY]).apps.get_model("core", "AuditEvent")
        old.objects.create(
            merchant_id=merchant.pk,
            action=legacy.action,
            data=legacy.data,
            created_at=legacy.created_at,
            prev_hash=GENESIS,
            hash=legacy.hash,
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    keyed = audit_record(merchant=merchant, action="test.after", data={})
    events = list(AuditEvent.objects.order_by("id").values_list("hash_scheme", "prev_hash"))
    assert events == [(SHA256, GENESIS), (KEYED, legacy.hash)]
    assert audit_chain_breaks() == []
    call_command("verify_custody", verbosity=0)
    assert "intact" in capsys.readouterr().out
    assert keyed.compute_hash() == keyed.hash


@pytest.mark.django_db
def test_no_unkeyed_event_may_follow_a_keyed_one(membership, capsys):
    merchant = membership.merchant
    keyed = audit_record(merchant=merchant, action="test.keyed", data={})
    downgraded = AuditEvent(
        merchant=merchant,
        action="test.unkeyed",
        data={},
        created_at=timezone.now(),
        prev_hash=keyed.hash,
        hash_scheme=SHA256,
    )
    downgraded.hash = downgraded.compute_hash()  # a valid plain SHA-256, linked right
    downgraded.save()
    assert audit_chain_check() == [ChainBreak(downgraded.pk, "downgrade")]
    with pytest.raises(CommandError):
        call_command("verify_custody", verbosity=0)
    out = capsys.readouterr().out
    assert f"BROKEN   audit chain at event {downgraded.pk}" in out
    assert "hashed without the key after keyed events" in out


@pytest.mark.django_db(transaction=True)
def test_each_committed_event_appends_its_head_to_the_anchor_log(membership, audit_anchors):
    merchant = membership.merchant
    first = audit_record(merchant=merchant, action="test.one", data={})
    with transaction.atomic():
        second = audit_record(merchant=merchant, action="test.two", data={})
        third = audit_record(merchant=merchant, action="test.three", data={})
        assert len(_anchors(audit_anchors)) == 1  # nothing before the commit
    with suppress(RuntimeError), transaction.atomic():
        audit_record(merchant=merchant, action="test.rolled_back", data={})
        raise RuntimeError
    lines = _anchors(audit_anchors)
    assert [(line["event"], line["hash"]) for line in lines] == [
        (event.pk, event.hash) for event in (first, second, third)
    ]
    assert lines[0]["at"] == first.created_at.isoformat()
    assert {line["scheme"] for line in lines} == {KEYED}


@pytest.mark.django_db
def test_an_anchor_that_cannot_be_written_never_breaks_the_request(
    membership, settings, tmp_path, caplog, django_capture_on_commit_callbacks
):
    (tmp_path / "not-a-folder").write_text("")
    settings.REFUNDGUARD_AUDIT_ANCHOR_PATH = tmp_path / "not-a-folder" / "anchors.log"
    with (
        caplog.at_level(logging.ERROR, logger="core.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        event = audit_record(merchant=membership.merchant, action="test.one", data={})
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert f"audit anchor of event {event.pk} not written" in caplog.text
