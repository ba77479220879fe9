"""The keyed audit chains: one per merchant (its own positions and links, locked on its
own so merchants never wait on each other), events hashed by HMAC under
REFUNDGUARD_AUDIT_KEY, the closed platform-wide chain of the events from before (and from
before the key) still verifying with its anchors, no unkeyed event after a keyed one, and
each committed event's head appended to the anchor log outside the database."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.audit import (
    CHAIN_LOCK_NAMESPACE,
    GENESIS,
    ChainBreak,
    audit_chain_breaks,
    audit_chain_check,
    audit_chain_head,
    audit_record,
)
from core.models import AppendOnlyError, AuditEvent, Merchant
from tests.factories import MerchantFactory

SHA256 = AuditEvent.HashScheme.SHA256
KEYED = AuditEvent.HashScheme.HMAC_SHA256
BEFORE_THE_KEY = ("core", "0002_auditevent")
BEFORE_MERCHANT_CHAINS = ("core", "0004_merchant_time_zone")
#: Long enough for any machine, only ever waited out when a test is about to fail.
STUCK = 60


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
    """The real migrations: a row written before them becomes an unkeyed event of the
    closed platform-wide chain (on PostgreSQL with the append-only trigger in place:
    adding the columns updates no row); the merchant's own chain starts keyed after it."""
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
    events = list(AuditEvent.objects.order_by("id").values_list("hash_scheme", "prev_hash", "seq"))
    assert events == [(SHA256, GENESIS, None), (KEYED, GENESIS, 1)]
    assert AuditEvent.objects.get(seq=None).hash == legacy.hash  # untouched
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
        seq=2,
        action="test.unkeyed",
        data={},
        created_at=timezone.now(),
        prev_hash=keyed.hash,
        hash_scheme=SHA256,
    )
    downgraded.hash = downgraded.compute_hash()  # a valid plain SHA-256, linked right
    downgraded.save()
    assert audit_chain_check() == [ChainBreak(downgraded.pk, "downgrade", merchant.pk)]
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
    assert [(line["event"], line["hash"], line["merchant"], line["seq"]) for line in lines] == [
        (event.pk, event.hash, merchant.pk, n) for n, event in enumerate((first, second, third), 1)
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


# --- One chain per merchant ------------------------------------------------------------


def _record(merchant: Merchant, action: str, **data: Any) -> AuditEvent:
    return audit_record(merchant=merchant, action=action, data=data)


def _turns(*merchants: Merchant, rounds: int = 3) -> list[AuditEvent]:
    """Events of the merchants in turn, as a busy platform interleaves them."""
    return [_record(m, "test.turn", n=n) for n in range(rounds) for m in merchants]


@pytest.mark.django_db
def test_each_merchant_has_its_own_chain_and_head():
    first, second = MerchantFactory(), MerchantFactory()
    events = _turns(first, second)
    for merchant in (first, second):
        chain = [event for event in events if event.merchant_id == merchant.pk]
        assert [event.seq for event in chain] == [1, 2, 3]
        assert [event.prev_hash for event in chain] == [GENESIS, chain[0].hash, chain[1].hash]
        head = audit_chain_head(merchant.pk)
        assert head is not None
        assert (head.event, head.hash, head.merchant, head.seq) == (
            chain[-1].pk,
            chain[-1].hash,
            merchant.pk,
            3,
        )
    assert audit_chain_check() == []
    assert audit_chain_head(MerchantFactory().pk) is None


@pytest.mark.django_db
def test_tampering_in_one_merchants_chain_is_reported_for_that_merchant(capsys):
    from tests.disputes.test_custody import _tamper

    first = MerchantFactory(slug="first-shop")
    second = MerchantFactory(slug="second-shop")
    _turns(first, second)
    target = AuditEvent.objects.get(merchant=second, seq=2)
    _tamper(target, {})
    assert audit_chain_check() == [ChainBreak(target.pk, "hash", second.pk)]
    assert audit_chain_check(merchant=first.pk) == []
    with pytest.raises(CommandError):
        call_command("verify_custody", verbosity=0)
    out = capsys.readouterr().out
    assert f"BROKEN   audit chain at event {target.pk}" in out
    assert "merchant second-shop's chain" in out and "first-shop" not in out
    call_command("verify_custody", "--merchant", "first-shop", verbosity=0)
    out = capsys.readouterr().out
    assert "3 audit event(s) walked in 1 chain(s)" in out and "intact" in out
    with pytest.raises(CommandError):
        call_command("verify_custody", "--merchant", "second-shop", verbosity=0)
    assert f"BROKEN   audit chain at event {target.pk}" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no merchant with the slug 'nobody'"):
        call_command("verify_custody", "--merchant", "nobody", verbosity=0)


@pytest.mark.django_db
def test_a_skipped_position_is_reported():
    merchant = MerchantFactory()
    first = _record(merchant, "test.one")
    skipped = AuditEvent(
        merchant=merchant,
        seq=3,
        action="test.three",
        data={},
        created_at=timezone.now(),
        prev_hash=first.hash,
    )
    skipped.hash = skipped.compute_hash()  # keyed and linked right: only its place is wrong
    skipped.save()
    assert audit_chain_check() == [ChainBreak(skipped.pk, "position", merchant.pk)]
    after = _record(merchant, "test.four")
    assert (after.seq, after.prev_hash) == (4, skipped.hash)


@pytest.mark.django_db
def test_two_events_can_never_take_the_same_place_in_a_chain():
    merchant = MerchantFactory()
    _record(merchant, "test.one")
    fork = AuditEvent(
        merchant=merchant,
        seq=1,
        action="test.fork",
        data={},
        created_at=timezone.now(),
        prev_hash=GENESIS,
    )
    fork.hash = fork.compute_hash()
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()
    assert AuditEvent.objects.filter(merchant=merchant).count() == 1


CLOSED_TRIGGER = "disputes_auditevent_chain_closed"


@pytest.mark.django_db
def test_nothing_joins_the_platform_wide_chain_once_merchants_have_their_own():
    merchant = MerchantFactory()
    _record(merchant, "test.one")
    late = AuditEvent(
        merchant=merchant,
        action="test.late",
        data={},
        created_at=timezone.now(),
        prev_hash=GENESIS,
    )
    late.hash = late.compute_hash()
    with pytest.raises(AppendOnlyError):
        late.save()
    postgres = connection.vendor == "postgresql"
    if postgres:
        # Behind the model's back (bulk_create skips save()): the database refuses too.
        with pytest.raises(IntegrityError, match="position"), transaction.atomic():
            AuditEvent.objects.bulk_create([late])
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE disputes_auditevent DISABLE TRIGGER {CLOSED_TRIGGER}")
    (late,) = AuditEvent.objects.bulk_create([late])  # as someone with the key and SQL would
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE disputes_auditevent ENABLE TRIGGER {CLOSED_TRIGGER}")
    assert audit_chain_check() == [ChainBreak(late.pk, "closed", None)]


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_per_merchant_chains_keeps_verifying(audit_anchors, capsys):
    """The real migration, on a platform-wide chain of two merchants' keyed events each
    anchored as the old code did: no row is rewritten, the anchors still match, each
    merchant's new events start a chain of its own, and the closed chain's anchors still
    catch its truncation."""
    from tests.disputes.test_custody import _as_superuser

    first = MerchantFactory(slug="first-shop")
    second = MerchantFactory(slug="second-shop")
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE_MERCHANT_CHAINS])
    try:
        state = executor.loader.project_state([BEFORE_MERCHANT_CHAINS])
        old = state.apps.get_model("core", "AuditEvent")
        previous = GENESIS
        for n, merchant in enumerate([first, second, first, second, second]):
            event = AuditEvent(
                merchant=merchant,
                action="test.before",
                data={"n": n},
                created_at=timezone.now(),
                prev_hash=previous,
                hash_scheme=KEYED,
            )
            event.hash = previous = event.compute_hash()
            row = old.objects.create(
                merchant_id=merchant.pk,
                action=event.action,
                data=event.data,
                created_at=event.created_at,
                prev_hash=event.prev_hash,
                hash=event.hash,
                hash_scheme=KEYED,
            )
            # The anchor line the old code wrote: no merchant, no position.
            line = {"event": row.pk, "hash": row.hash, "at": "", "scheme": KEYED}
            with audit_anchors.open("a") as fh:
                fh.write(json.dumps(line) + "\n")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    columns = ("id", "merchant_id", "prev_hash", "hash", "seq")
    before = list(AuditEvent.objects.order_by("id").values_list(*columns))
    assert [row[-1] for row in before] == [None] * 5
    assert audit_chain_breaks() == []
    head = audit_chain_head(first.pk)  # no chain of its own yet: its newest event
    assert head is not None and (head.event, head.seq) == (before[2][0], None)

    new = [_record(merchant, "test.after") for merchant in (first, second, first)]
    assert [(event.seq, event.prev_hash) for event in new] == [
        (1, GENESIS),
        (1, GENESIS),
        (2, new[0].hash),
    ]
    assert list(AuditEvent.objects.filter(seq=None).values_list(*columns)) == before
    head = audit_chain_head(first.pk)
    assert head is not None and (head.event, head.seq) == (new[2].pk, 2)
    call_command("verify_custody", verbosity=0)
    out = capsys.readouterr().out
    assert "8 audit event(s) walked in 3 chain(s)" in out
    assert "8 anchored event(s) checked" in out and "intact" in out
    # One merchant: its chain, and the platform-wide chain its old events are in (whole).
    call_command("verify_custody", "--merchant", "first-shop", verbosity=0)
    out = capsys.readouterr().out
    assert "7 audit event(s) walked in 2 chain(s)" in out
    assert "7 anchored event(s) checked" in out and "intact" in out

    newest_before = before[-1][0]
    _as_superuser([("DELETE FROM disputes_auditevent WHERE id = %s", [newest_before])])
    assert audit_chain_breaks() == []  # what is left still chains
    with pytest.raises(CommandError):
        call_command("verify_custody", verbosity=0)
    out = capsys.readouterr().out
    assert f"TRUNCATED the anchor log names event {newest_before} of the platform-wide chain" in out
    assert "1 anchored event(s) deleted" in out


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_of_several_merchants_keep_every_chain_whole():
    merchants = [MerchantFactory() for _ in range(3)]
    errors: list[BaseException] = []

    def append(merchant: Merchant, n: int) -> None:
        from django.db import connection as thread_connection

        try:
            for i in range(5):
                _record(merchant, "test.append", n=n, i=i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [
        threading.Thread(target=append, args=(merchant, n))
        for merchant in merchants
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for merchant in merchants:
        seqs = AuditEvent.objects.filter(merchant=merchant).values_list("seq", flat=True)
        assert sorted(seqs) == list(range(1, 21))
    assert audit_chain_check() == []


# --- Locks: per merchant, on PostgreSQL --------------------------------------------------


def _chain_locks(merchant: Merchant, *, granted: bool) -> int:
    """How many sessions hold (or wait for) the advisory lock of the merchant's chain: a
    64-bit key shows as classid (high half) and objid (low half), objsubid 1."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND objid = %s AND objsubid = 1 AND granted = %s",
            [CHAIN_LOCK_NAMESPACE, merchant.pk, granted],
        )
        return int(cursor.fetchone()[0])


class _Holder(threading.Thread):
    """Records one event for the merchant in a transaction it keeps open until told."""

    def __init__(self, merchant: Merchant) -> None:
        super().__init__()
        self.merchant = merchant
        self.holding = threading.Event()
        self.release = threading.Event()
        self.event: AuditEvent | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connection as thread_connection

        try:
            with transaction.atomic():
                self.event = _record(self.merchant, "test.held")
                self.holding.set()
                if not self.release.wait(2 * STUCK):  # outlives what the test waits for
                    raise TimeoutError("never released")
        except BaseException as exc:  # pragma: no cover - reported by the test
            self.error = exc
        finally:
            self.holding.set()
            thread_connection.close()


class _Writer(threading.Thread):
    """Records one event for the merchant in a transaction of its own."""

    def __init__(self, merchant: Merchant) -> None:
        super().__init__()
        self.merchant = merchant
        self.done = threading.Event()
        self.event: AuditEvent | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connection as thread_connection

        try:
            self.event = _record(self.merchant, "test.written")
        except BaseException as exc:  # pragma: no cover - reported by the test
            self.error = exc
        finally:
            self.done.set()
            thread_connection.close()


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time, whatever the merchant")


def _until(condition: Callable[[], bool]) -> bool:
    """Poll ``condition`` until it holds (``False`` only if it never does)."""
    for _ in range(STUCK * 20):
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_merchant_never_waits_for_another_merchants_open_transaction():
    _postgresql_only()
    first, second = MerchantFactory(), MerchantFactory()
    holder = _Holder(first)
    holder.start()
    try:
        assert holder.holding.wait(STUCK) and holder.error is None
        assert _chain_locks(first, granted=True) == 1  # first's chain is locked …
        writer = _Writer(second)
        writer.start()
        # … and second's append goes through while first's transaction stays open.
        assert writer.done.wait(STUCK), "another merchant's open transaction blocked it"
        assert _chain_locks(first, granted=True) == 1 and holder.is_alive()
    finally:
        holder.release.set()
        holder.join()
    writer.join()
    assert (holder.error, writer.error) == (None, None)
    assert writer.event is not None and (writer.event.seq, writer.event.prev_hash) == (1, GENESIS)
    assert audit_chain_check() == []


@pytest.mark.django_db(transaction=True)
def test_appends_of_the_same_merchant_wait_their_turn_and_chain_in_order():
    _postgresql_only()
    merchant = MerchantFactory()
    holder = _Holder(merchant)
    holder.start()
    try:
        assert holder.holding.wait(STUCK) and holder.error is None
        writer = _Writer(merchant)
        writer.start()
        # The second append waits for the lock of the same chain, not for a timeout.
        assert _until(lambda: _chain_locks(merchant, granted=False) == 1)
        assert not writer.done.is_set()
    finally:
        holder.release.set()
        holder.join()
    assert writer.done.wait(STUCK)
    writer.join()
    assert (holder.error, writer.error) == (None, None)
    assert holder.event is not None and writer.event is not None
    assert (writer.event.seq, writer.event.prev_hash) == (2, holder.event.hash)
    assert audit_chain_check() == []
