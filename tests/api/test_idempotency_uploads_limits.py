"""Idempotent creates, resumable uploads, and the per-token rate limit."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from api.models import ChunkedUpload
from disputes.models import Dispute
from evidence.models import PackingVideo, Product
from tests.api.test_endpoints import dispute_fields
from tests.conftest import stored_names
from tests.disputes.fixtures import jpeg_bytes, sample
from tests.evidence.test_services import mp4

pytestmark = pytest.mark.django_db


def test_replayed_create_returns_the_first_result(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-1001-claim"}
    photo = jpeg_bytes(sample("coffee"))
    fields = dispute_fields()
    first = api.client.post(
        "/api/v1/disputes/",
        {**fields, "photos": [SimpleUploadedFile("a.jpg", photo)]},
        format="multipart",
        **headers,
    )
    again = api.client.post(
        "/api/v1/disputes/",
        {**fields, "photos": [SimpleUploadedFile("a.jpg", photo)]},
        format="multipart",
        **headers,
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Dispute.objects.count() == 1


def test_same_key_for_a_different_request_is_refused(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    assert (
        api.client.post("/api/v1/products/", {"sku": "A"}, format="json", **headers).status_code
        == 201
    )
    other = api.client.post("/api/v1/products/", {"sku": "B"}, format="json", **headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "unprocessable"
    assert list(Product.objects.values_list("sku", flat=True)) == ["A"]


def test_a_failed_request_is_not_remembered(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-2"}
    bad = api.client.post("/api/v1/products/", {"sku": ""}, format="json", **headers)
    assert bad.status_code == 400
    good = api.client.post("/api/v1/products/", {"sku": ""}, format="json", **headers)
    assert good.status_code == 400  # same request, evaluated again, not replayed
    assert "Idempotent-Replayed" not in good


def test_keys_are_per_merchant(api, other_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared"}
    a = api.client.post("/api/v1/products/", {"sku": "A"}, format="json", **headers)
    b = other_api.client.post("/api/v1/products/", {"sku": "A"}, format="json", **headers)
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def _patch(client, upload_id, offset: int, data: bytes):
    return client.generic(
        "PATCH",
        f"/api/v1/uploads/{upload_id}/",
        data,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
    )


def test_resumable_upload_survives_a_dropped_connection(api):
    video = mp4(seconds=3)
    start = api.client.post(
        "/api/v1/uploads/", {"filename": "ORDER-7.mp4", "size": len(video)}, format="json"
    )
    assert start.status_code == 201 and start["Upload-Offset"] == "0"
    upload_id = start.json()["id"]
    half = len(video) // 2
    first = _patch(api.client, upload_id, 0, video[:half])
    assert first.status_code == 200 and first.json()["offset"] == half
    # The connection drops; the client asks where to resume and sends from there.
    wrong = _patch(api.client, upload_id, 0, video[:half])
    assert wrong.status_code == 409 and wrong.json()["error"]["offset"] == half
    state = api.client.get(f"/api/v1/uploads/{upload_id}/")
    assert state["Upload-Offset"] == str(half) and state.json()["complete"] is False
    early = api.client.post(
        "/api/v1/videos/", {"order_ref": "ORDER-7", "upload": upload_id}, format="json"
    )
    assert early.status_code == 409  # incomplete
    last = _patch(api.client, upload_id, half, video[half:])
    assert last.json()["complete"] is True
    created = api.client.post(
        "/api/v1/videos/", {"order_ref": "ORDER-7", "upload": upload_id}, format="json"
    )
    assert created.status_code == 201, created.content
    stored = PackingVideo.objects.get()
    assert stored.sha256 == hashlib.sha256(video).hexdigest() == created.json()["sha256"]
    assert stored.original_name == "ORDER-7.mp4"
    assert ChunkedUpload.objects.get().consumed_at is not None
    reuse = api.client.post(
        "/api/v1/videos/", {"order_ref": "ORDER-7", "upload": upload_id}, format="json"
    )
    assert reuse.status_code == 404


def test_upload_refuses_more_bytes_than_declared_and_bad_sizes(api):
    start = api.client.post("/api/v1/uploads/", {"filename": "v.mp4", "size": 4}, format="json")
    too_much = _patch(api.client, start.json()["id"], 0, b"12345")
    assert too_much.status_code == 400
    assert (
        api.client.post("/api/v1/uploads/", {"filename": "v", "size": 0}, format="json").status_code
        == 400
    )


def test_a_corrupt_chunked_video_is_refused_and_nothing_is_stored(api):
    data = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200
    start = api.client.post(
        "/api/v1/uploads/", {"filename": "bad.mp4", "size": len(data)}, format="json"
    )
    _patch(api.client, start.json()["id"], 0, data)
    response = api.client.post(
        "/api/v1/videos/", {"order_ref": "O", "upload": start.json()["id"]}, format="json"
    )
    assert response.status_code == 400
    assert PackingVideo.objects.count() == 0
    assert stored_names("originals") == []


def test_rate_limit_answers_429_with_retry_after(api, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "3/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [api.client.get("/api/v1/products/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = api.client.get("/api/v1/products/")
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited["Retry-After"]) > 0
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        cache.clear()


def test_an_upload_with_a_path_for_a_name_is_refused_before_any_byte(api):
    start = api.client.post(
        "/api/v1/uploads/", {"filename": "../../etc/evil.mp4", "size": 10}, format="json"
    )
    assert start.status_code == 400
    assert "contains a path" in start.json()["error"]["message"]
    assert not ChunkedUpload.objects.exists()


def test_idle_uploads_are_deleted_with_their_bytes(api, settings):
    from datetime import timedelta

    from django.utils import timezone

    from api import services

    idle = services.upload_start(merchant=api.merchant, actor=api.user, filename="a.mp4", size=9)
    services.upload_append(
        upload=idle, actor=api.user, offset=0, stream=io.BytesIO(b"abc"), length=3
    )
    fresh = services.upload_start(merchant=api.merchant, actor=api.user, filename="b.mp4", size=9)
    services.upload_append(
        upload=fresh, actor=api.user, offset=0, stream=io.BytesIO(b"def"), length=3
    )
    later = timezone.now() + timedelta(hours=settings.UPLOAD_IDLE_HOURS, minutes=1)
    ChunkedUpload.objects.filter(pk=fresh.pk).update(updated_at=later)

    assert services.uploads_expire(now=later) == 1

    assert list(ChunkedUpload.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert stored_names(f"partial/{idle.pk}") == []
    assert len(stored_names(f"partial/{fresh.pk}")) == 1


def test_upload_bytes_sent_as_json_are_refused_not_stored(api):
    start = api.client.post("/api/v1/uploads/", {"filename": "v.mp4", "size": 4}, format="json")
    wrong = api.client.generic(
        "PATCH",
        f"/api/v1/uploads/{start.json()['id']}/",
        b'{"a":1}',
        content_type="application/json",
        HTTP_UPLOAD_OFFSET="0",
    )
    assert wrong.status_code == 415
    assert "application/offset+octet-stream" in wrong.json()["error"]["message"]
    assert ChunkedUpload.objects.get().offset == 0


def test_a_full_disk_during_a_chunk_answers_503_and_keeps_none_of_it(api, monkeypatch):
    """The storage fills up in the middle of a PATCH: 503 with a reason, the offset
    unchanged, none of the part kept, and the part can be sent again."""
    import errno

    from django.core.files.storage import FileSystemStorage

    from api import services as api_services

    data = bytes(range(256)) * 64
    start = api.client.post("/api/v1/uploads/", {"filename": "v.mp4", "size": len(data)},
                            format="json")  # fmt: skip
    upload_id = start.json()["id"]
    assert _patch(api.client, upload_id, 0, data[:1000]).json()["offset"] == 1000
    real_save = FileSystemStorage._save

    def full_disk_save(self, name, content):  # type: ignore[no-untyped-def]
        stored = real_save(self, name, content)  # half of it written, then the disk is full
        with open(self.path(stored), "r+b") as fh:
            fh.truncate(10)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", full_disk_save)
    failed = _patch(api.client, upload_id, 1000, data[1000:])
    assert failed.status_code == 503, failed.content
    assert "No space left on device" in failed.json()["error"]["message"]
    assert len(stored_names(f"partial/{upload_id}")) == 1  # only the acknowledged part
    assert ChunkedUpload.objects.get().offset == 1000
    monkeypatch.setattr(FileSystemStorage, "_save", real_save)
    done = _patch(api.client, upload_id, 1000, data[1000:])
    assert done.json()["complete"] is True
    with api_services.upload_open(ChunkedUpload.objects.get()) as fh:
        assert fh.read() == data
