"""Audit anchors in object storage (several hosts, one set of anchors): each committed
event's head is a write-once object on the real S3 server (SeaweedFS), read back by
``verify_custody`` on any host, listed per merchant, never overwritten; an anchor log
left from before S3 is still read with them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from core.audit import ChainHead, audit_anchor_check, audit_record
from core.audit_anchors import anchor_object_name, anchor_storage, anchors_read
from tests.disputes.test_custody import _as_superuser
from tests.factories import MerchantFactory

pytestmark = [pytest.mark.s3, pytest.mark.usefixtures("object_storage")]


def _objects(folder: str) -> list[str]:
    storage = anchor_storage()
    assert storage is not None
    return sorted(storage.listdir(folder)[1])


def _custody(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[bool, str]:
    try:
        call_command("verify_custody", *args, verbosity=0)
    except CommandError:
        return False, capsys.readouterr().out
    return True, capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_each_committed_head_is_an_object_named_by_its_chain_place_and_hash(audit_anchors):
    shop, other = MerchantFactory(), MerchantFactory()
    events = [audit_record(merchant=shop, action="test.n", data={"n": n}) for n in range(3)]
    audit_record(merchant=other, action="test.other", data={})
    assert _objects(f"m{shop.pk}") == [
        f"{n:012d}-{event.pk}-{event.hash}.json" for n, event in enumerate(events, 1)
    ]
    assert len(_objects(f"m{other.pk}")) == 1
    assert not audit_anchors.exists()  # nothing on this host's disk
    storage = anchor_storage()
    assert storage is not None
    with storage.open(anchor_object_name(ChainHead.of(events[0]))) as fh:
        body = json.loads(fh.read())
    assert (body["event"], body["hash"], body["seq"]) == (events[0].pk, events[0].hash, 1)
    # A merchant's check lists that merchant's folder only.
    read = anchors_read(merchant=shop.pk, platform=False)
    assert set(read.anchored) == {event.pk for event in events}


@pytest.mark.django_db(transaction=True)
def test_an_anchor_object_is_never_overwritten():
    shop = MerchantFactory()
    event = audit_record(merchant=shop, action="test.once", data={})
    storage = anchor_storage()
    assert storage is not None
    with pytest.raises(FileExistsError):
        storage.save(anchor_object_name(ChainHead.of(event)), ContentFile(b"{}"))


@pytest.mark.django_db(transaction=True)
def test_verify_custody_on_any_host_reads_the_shared_anchors_and_finds_truncation(capsys):
    shop = MerchantFactory()
    events = [audit_record(merchant=shop, action="test.n", data={"n": n}) for n in range(4)]
    ok, out = _custody(capsys)
    assert ok, out
    assert "4 anchored event(s) checked in s3://" in out
    _as_superuser([("DELETE FROM disputes_auditevent WHERE id = %s", [events[-1].pk])])
    check = audit_anchor_check(merchant=shop.pk)
    assert [kind for kind, _ in check.problems] == ["truncated"], check.problems


@pytest.mark.django_db(transaction=True)
def test_a_second_hash_for_one_event_is_a_rewrite_and_an_old_log_is_still_read(
    audit_anchors: Path,
):
    shop = MerchantFactory()
    event = audit_record(merchant=shop, action="test.one", data={})
    head = ChainHead.of(event)
    # From the days of the local log: one line, for an event the objects anchor too.
    audit_anchors.write_text(json.dumps(head.as_json()) + "\n")
    read = anchors_read()
    assert read.anchored[event.pk].hash == event.hash and not read.problems
    assert len(read.sources) == 2
    # Someone with the bucket's keys adds another hash for the event: both names stay.
    forged = dataclasses.replace(head, hash="f" * 64)
    storage = anchor_storage()
    assert storage is not None
    storage.save(anchor_object_name(forged), ContentFile(b"{}"))
    check = audit_anchor_check()
    assert "rewritten" in [kind for kind, _ in check.problems], check.problems
