"""Which storages the environment chooses (pure: no server): the evidence bucket, and
the audit anchors' write-once storage beside it or in a bucket of their own."""

from __future__ import annotations

from config.object_storage import s3_anchor_storage_from_env, s3_storage_from_env

S3 = {"REFUNDGUARD_S3_BUCKET": "evidence", "REFUNDGUARD_S3_PREFIX": "/prod/"}


def test_without_a_bucket_evidence_and_anchors_stay_local():
    assert s3_storage_from_env({}) is None
    assert s3_anchor_storage_from_env({}) is None


def test_anchors_go_beside_the_evidence_under_its_prefix_and_are_write_once():
    evidence = s3_storage_from_env(S3)
    anchors = s3_anchor_storage_from_env(S3)
    assert evidence is not None and anchors is not None
    assert evidence["OPTIONS"]["location"] == "prod"
    assert anchors["OPTIONS"]["bucket_name"] == "evidence"
    assert anchors["OPTIONS"]["location"] == "prod/audit-anchors"
    assert anchors["OPTIONS"]["every_name_once"] is True
    assert "every_name_once" not in evidence["OPTIONS"]


def test_an_anchor_bucket_of_their_own():
    anchors = s3_anchor_storage_from_env({**S3, "REFUNDGUARD_AUDIT_ANCHOR_BUCKET": "locked"})
    assert anchors is not None
    assert (anchors["OPTIONS"]["bucket_name"], anchors["OPTIONS"]["location"]) == (
        "locked",
        "audit-anchors",
    )
