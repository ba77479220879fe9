"""Chunked uploads in object storage: each PATCH may reach another web host (another
local folder, no shared disk), the video is assembled from the bucket, and the hourly
clean-up removes what was left from any host."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from api import services
from api.models import ChunkedUpload
from evidence.models import PackingVideo
from tests.conftest import stored_names
from tests.evidence.test_services import mp4

pytestmark = [pytest.mark.s3, pytest.mark.django_db, pytest.mark.usefixtures("object_storage")]


def _patch(client, upload_id: str, offset: int, data: bytes):  # type: ignore[no-untyped-def]
    return client.generic(
        "PATCH",
        f"/api/v1/uploads/{upload_id}/",
        data,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
    )


def on_host(settings, tmp_path: Path, host: str) -> Path:
    """Serve the next requests as web host ``host``: its own local folder."""
    folder = tmp_path / host
    folder.mkdir(exist_ok=True)
    settings.MEDIA_ROOT = folder
    return folder


def test_each_part_on_another_host_and_the_video_from_a_third(
    api, settings, tmp_path, django_capture_on_commit_callbacks
):
    video = mp4(seconds=3)
    third = len(video) // 3
    start = api.client.post(
        "/api/v1/uploads/", {"filename": "ORDER-9.mp4", "size": len(video)}, format="json"
    )
    upload_id = start.json()["id"]
    hosts = [on_host(settings, tmp_path, "web-a")]
    assert _patch(api.client, upload_id, 0, video[:third]).json()["offset"] == third
    hosts.append(on_host(settings, tmp_path, "web-b"))
    # A retry of the first part at the wrong offset is told where the upload stands.
    assert _patch(api.client, upload_id, 0, video[:third]).status_code == 409
    assert _patch(api.client, upload_id, third, video[third:]).json()["complete"] is True
    assert len(stored_names(f"partial/{upload_id}")) == 2
    hosts.append(on_host(settings, tmp_path, "web-c"))
    with django_capture_on_commit_callbacks(execute=True):
        created = api.client.post(
            "/api/v1/videos/", {"order_ref": "ORDER-9", "upload": upload_id}, format="json"
        )
    assert created.status_code == 201, created.content
    stored = PackingVideo.objects.get()
    assert stored.sha256 == hashlib.sha256(video).hexdigest()
    assert stored.status == PackingVideo.Status.READY  # keyframes read back from the bucket
    assert stored_names(f"partial/{upload_id}") == []  # the parts are gone once used
    assert all(list(host.rglob("*")) == [] for host in hosts)  # no host kept a byte


def test_a_part_left_by_a_failed_commit_is_replaced_not_chained(api):
    upload = services.upload_start(merchant=api.merchant, actor=api.user, filename="v.mp4", size=10)
    services.upload_append(
        upload=upload, actor=api.user, offset=0, stream=io.BytesIO(b"abcd"), length=4
    )
    # A host stored the next part, then died before its offset was committed.
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.save(f"partial/{upload.pk}/{4:015d}-{9:015d}", ContentFile(b"XXXXX"))
    services.upload_append(
        upload=upload, actor=api.user, offset=4, stream=io.BytesIO(b"efghij"), length=6
    )
    upload.refresh_from_db()
    with services.upload_open(upload) as fh:
        assert fh.read() == b"abcdefghij"
    assert len(stored_names(f"partial/{upload.pk}")) == 2


def test_the_hourly_clean_up_removes_idle_parts_from_the_bucket(api, settings):
    idle = services.upload_start(merchant=api.merchant, actor=api.user, filename="a.mp4", size=9)
    services.upload_append(upload=idle, actor=api.user, offset=0, stream=io.BytesIO(b"abc"),
                           length=3)  # fmt: skip
    later = timezone.now() + timedelta(hours=settings.UPLOAD_IDLE_HOURS, minutes=1)
    assert services.uploads_expire(now=later) == 1
    assert not ChunkedUpload.objects.exists()
    assert stored_names("partial") == []
