"""Chain of custody: every original re-hashed, the audit chain walked, tampering found;
the database refuses to rewrite audit history; who looked and from where is recorded."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from core.models import AuditEvent
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
def test_a_flipped_byte_in_a_stored_file_is_reported(evidence, media_root, capsys):
    photo, _ = evidence
    path = media_root / photo.file.name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
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
