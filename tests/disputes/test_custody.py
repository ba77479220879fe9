"""Chain of custody: every original re-hashed, the audit chain walked, tampering found;
the database refuses to rewrite audit history; who looked and from where is recorded.
An insider with the database but not the audit key (recomputing every hash, updating a
SHA-256 column to match a swapped file, deleting the newest events) is caught too."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from core.audit import GENESIS, ChainHead, audit_chain_breaks
from core.audit_anchors import anchor_append
from core.models import AuditEvent
from disputes.models import ClaimImage
from evidence.models import ReferencePhoto
from tests.conftest import stored_bytes_replace
from tests.disputes.factories import scored_dispute
from tests.disputes.fixtures import jpeg_bytes, open_dispute, reference_photo, sample
from tests.factories import ProductFactory, ReviewerFactory


@pytest.fixture
def evidence(membership):
    product = ProductFactory(merchant=membership.merchant)
    photo = reference_photo(product, sample("coffee"))
    dispute = open_dispute(membership.merchant, [(jpeg_bytes(sample("rocket")), "claim.jpg")])
    return photo, dispute


def custody(capsys) -> tuple[bool, str]:
    try:
        call_command("verify_custody", verbosity=0)
    except CommandError:
        return False, capsys.readouterr().out
    return True, capsys.readouterr().out


@pytest.mark.django_db
def test_intact_custody_passes(evidence, capsys):
    ok, out = custody(capsys)
    assert ok, out
    assert "2 original file(s) re-hashed" in out and "intact" in out


@pytest.mark.django_db
def test_a_flipped_byte_in_a_stored_file_is_reported(evidence, capsys):
    photo, _ = evidence
    with default_storage.open(photo.file.name) as fh:
        data = bytearray(fh.read())
    data[len(data) // 2] ^= 0x01
    stored_bytes_replace(photo.file.name, bytes(data))
    ok, out = custody(capsys)
    assert not ok
    assert f"ALTERED  reference photo {photo.pk}" in out and photo.file.name in out


@pytest.mark.django_db
def test_a_missing_file_is_reported(evidence, capsys):
    _, dispute = evidence
    image = dispute.claim_images.get()
    default_storage.delete(image.file.name)
    ok, out = custody(capsys)
    assert not ok and f"MISSING  claim image {image.pk}" in out


def _tamper(event: AuditEvent, data: dict) -> None:
    """Rewrite an audit row behind the application's back (as an attacker with SQL would)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off
        cursor.execute(
            "UPDATE disputes_auditevent SET action = %s WHERE id = %s",
            ["dispute.tampered", event.pk],
        )


@pytest.mark.django_db
def test_an_edited_audit_row_breaks_the_chain_at_that_event(evidence, capsys):
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) >= 1
    target = events[0]
    _tamper(target, {})
    ok, out = custody(capsys)
    assert not ok
    assert f"BROKEN   audit chain at event {target.pk}" in out


@pytest.mark.django_db
def test_postgresql_refuses_to_update_or_delete_audit_events(evidence):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    event = AuditEvent.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == event.action


@pytest.mark.django_db
def test_views_and_decisions_are_recorded_with_the_client_ip(client):
    dispute = scored_dispute("high")
    reviewer = ReviewerFactory().user
    client.force_login(reviewer)
    client.get(reverse("disputes:detail", args=[dispute.pk]), REMOTE_ADDR="203.0.113.7")
    client.post(
        reverse("disputes:decide", args=[dispute.pk]),
        {"action": "approve", "version": dispute.version},
        REMOTE_ADDR="203.0.113.7",
    )
    viewed = AuditEvent.objects.get(dispute=dispute, action="dispute.viewed")
    decided = AuditEvent.objects.get(dispute=dispute, action="dispute.decided")
    assert viewed.actor == reviewer and viewed.ip == "203.0.113.7"
    assert decided.ip == "203.0.113.7"
    assert viewed.compute_hash() == viewed.hash  # the IP is inside the hashed content


@pytest.mark.django_db
def test_evidence_uploads_are_in_the_audit_trail(evidence):
    photo, _ = evidence
    event = AuditEvent.objects.get(action="evidence.uploaded")
    assert event.data["sha256"] == photo.sha256 and event.data["kind"] == "photos"


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain(membership):
    """Eight threads append at once; every event must chain to the one before it."""
    import threading

    from core.audit import audit_chain_breaks, audit_record

    merchant = membership.merchant
    errors: list[BaseException] = []

    def append(n: int) -> None:
        from django.db import connection as thread_connection

        try:
            for i in range(5):
                audit_record(merchant=merchant, action="test.append", data={"n": n, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEvent.objects.filter(action="test.append").count() == 40
    assert audit_chain_breaks() == []


# --- An insider with database rights but not REFUNDGUARD_AUDIT_KEY --------------------

SHA256 = AuditEvent.HashScheme.SHA256
TRIGGER = "disputes_auditevent_append_only"


def _as_superuser(statements: list[tuple[str, list[object]]]) -> None:
    """Run SQL behind the application's back, as a database superuser would: on
    PostgreSQL the append-only trigger is disabled first (and enabled again after)."""
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        if postgres:
            # Pending deferred FK checks of this test's inserts would block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE disputes_auditevent DISABLE TRIGGER {TRIGGER}")
        for sql, params in statements:
            cursor.execute(sql, params)
        if postgres:
            cursor.execute(f"ALTER TABLE disputes_auditevent ENABLE TRIGGER {TRIGGER}")


@pytest.fixture
def anchored(evidence, audit_anchors: Path):  # type: ignore[no-untyped-def]
    """The evidence, with every event's head in the anchor log as its commit writes it
    (this test's transaction never commits, so the test writes them)."""
    for event in AuditEvent.objects.order_by("id"):
        anchor_append(ChainHead.of(event))
    assert len(audit_anchors.read_text().splitlines()) == AuditEvent.objects.count()
    return evidence


def _plain_sha256(event: AuditEvent) -> str:
    """What someone without the key can compute: the old, unkeyed hash."""
    unkeyed = copy.copy(event)
    unkeyed.hash_scheme = SHA256
    return unkeyed.compute_hash()


def _rewrite_without_key(*, mark_unkeyed: bool) -> AuditEvent:
    """Edit the first event, then recompute every hash after it with plain SHA-256 (and,
    with ``mark_unkeyed``, mark every event as recorded before the chain was keyed)."""
    events = list(AuditEvent.objects.order_by("id"))
    events[0].action = "dispute.tampered"
    previous, statements = GENESIS, []
    for event in events:
        event.prev_hash = previous
        if mark_unkeyed:
            event.hash_scheme = SHA256
        event.hash = previous = _plain_sha256(event)
        statements.append(
            (
                "UPDATE disputes_auditevent SET action = %s, prev_hash = %s, hash = %s, "
                "hash_scheme = %s WHERE id = %s",
                [event.action, event.prev_hash, event.hash, event.hash_scheme, event.pk],
            )
        )
    _as_superuser(statements)
    return events[0]


@pytest.mark.django_db
def test_intact_custody_with_its_anchors_passes(anchored, capsys):
    ok, out = custody(capsys)
    assert ok, out
    events = AuditEvent.objects.count()
    assert f"{events} anchored event(s) checked" in out and "intact" in out
    assert set(AuditEvent.objects.values_list("hash_scheme", flat=True)) == {"hmac-sha256"}


@pytest.mark.django_db
def test_every_hash_recomputed_without_the_key_is_detected(evidence, capsys):
    edited = _rewrite_without_key(mark_unkeyed=False)
    ok, out = custody(capsys)
    assert not ok
    assert f"BROKEN   audit chain at event {edited.pk}" in out
    assert "does not hash to its recorded hash" in out


@pytest.mark.django_db
def test_a_chain_rewritten_as_unkeyed_is_caught_by_the_chain_and_its_anchors(anchored, capsys):
    edited = _rewrite_without_key(mark_unkeyed=True)
    # Consistent in itself, but a merchant's chain is keyed throughout; the anchors know
    # each hash it had.
    assert audit_chain_breaks() == list(
        AuditEvent.objects.order_by("id").values_list("id", flat=True)
    )
    ok, out = custody(capsys)
    assert not ok
    assert f"BROKEN   audit chain at event {edited.pk}" in out
    assert "hashed without the key" in out
    assert f"REWRITTEN event {edited.pk} has hash" in out


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["claim image", "reference photo"])
def test_a_sha256_column_updated_to_match_a_swapped_file_is_detected(anchored, capsys, kind):
    photo, dispute = anchored
    original = dispute.claim_images.get() if kind == "claim image" else photo
    with default_storage.open(original.file.name) as fh:
        data = bytearray(fh.read())
    data[len(data) // 2] ^= 0x01
    stored_bytes_replace(original.file.name, bytes(data))
    forged = hashlib.sha256(bytes(data)).hexdigest()
    model = ClaimImage if kind == "claim image" else ReferencePhoto
    model.objects.filter(pk=original.pk).update(sha256=forged)  # the file now "matches"
    ok, out = custody(capsys)
    assert not ok
    assert "ALTERED" not in out
    assert f"CHANGED  {kind} {original.pk}" in out
    assert f"its SHA-256 column says {forged}" in out and original.sha256 in out


@pytest.mark.django_db
def test_deleting_the_newest_events_is_caught_by_the_anchors(anchored, capsys):
    newest = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:2])
    _as_superuser(
        [("DELETE FROM disputes_auditevent WHERE id IN (%s, %s)", [newest[0], newest[1]])]
    )
    assert audit_chain_breaks() == []  # what is left still chains
    ok, out = custody(capsys)
    assert not ok
    assert f"TRUNCATED the anchor log names event {newest[0]}" in out
    assert "2 anchored event(s) deleted" in out
