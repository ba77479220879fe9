"""Evidence in a real S3-compatible server (SeaweedFS): originals stay write-once, files
stream back with HTTP Range, photos and videos go through upload and processing, and a
storage outage is a clear error that keeps nothing."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from config.object_storage import s3_storage_from_env
from evidence import services, storage
from evidence.errors import StorageUnavailable
from evidence.models import PackingVideo, ReferencePhoto
from evidence.object_storage import PART_BYTES, WriteOnceS3Storage
from tests.conftest import stored_names
from tests.evidence.test_services import jpeg, mp4
from tests.seaweedfs import BUCKET

pytestmark = [pytest.mark.s3, pytest.mark.usefixtures("object_storage")]


def original(name: str = "photo.jpg") -> str:
    return storage.original_name(merchant_id=1, kind="photos", extension=name.split(".")[-1])


def test_the_default_storage_is_the_bucket_and_nothing_lands_on_local_disk(media_root):
    name = default_storage.save(original(), ContentFile(b"bytes"))
    assert isinstance(default_storage._wrapped, WriteOnceS3Storage)  # type: ignore[attr-defined]
    assert stored_names() == [name]
    assert list(media_root.rglob("*")) == []


def test_an_original_is_never_overwritten():
    """Refused by the server itself (a conditional PUT, ``If-None-Match: *``: no look
    before the write that a second host could slip past), and the first bytes stay."""
    name = original()
    assert default_storage.save(name, ContentFile(b"first")) == name
    with pytest.raises(FileExistsError):
        default_storage.save(name, ContentFile(b"second"))
    with default_storage.open(name) as fh:
        assert fh.read() == b"first"


def test_without_conditional_writes_the_name_is_checked_first(object_storage):
    options = {**s3_storage_from_env(object_storage)["OPTIONS"], "conditional_put": False}  # type: ignore[index]
    plain = WriteOnceS3Storage(**options)
    name = original()
    plain.save(name, ContentFile(b"first"))
    with pytest.raises(FileExistsError):
        plain.save(name, ContentFile(b"second"))
    with plain.open(name) as fh:
        assert fh.read() == b"first"


def test_hosts_racing_for_one_name_leave_exactly_one_original():
    name = original()
    outcomes: list[str] = []

    def write(n: int) -> None:
        try:
            default_storage.save(name, ContentFile(bytes([n]) * 50_000))
            outcomes.append(f"stored {n}")
        except FileExistsError:
            outcomes.append("refused")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(o.split()[0] for o in outcomes)
    assert counts == {"stored": 1, "refused": 7}
    winner = int(next(o for o in outcomes if o.startswith("stored")).split()[1])
    with default_storage.open(name) as fh:
        assert fh.read() == bytes([winner]) * 50_000


def test_a_large_original_goes_in_parts_and_is_write_once_too(seaweedfs, object_storage):
    data = bytes(range(256)) * ((PART_BYTES * 2 + 12_345) // 256)
    name = original("video.mp4")
    default_storage.save(name, ContentFile(data))
    with pytest.raises(FileExistsError):
        default_storage.save(name, ContentFile(b"x" * (PART_BYTES + 10)))
    assert default_storage.size(name) == len(data)
    with default_storage.open(name) as fh:
        assert hashlib.sha256(fh.read()).digest() == hashlib.sha256(data).digest()
    key = f"{object_storage['REFUNDGUARD_S3_PREFIX']}/{name}"
    head = seaweedfs.client().head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(data)
    # No multipart upload is left open by the refused write.
    pending = seaweedfs.client().list_multipart_uploads(Bucket=BUCKET, Prefix=key)
    assert pending.get("Uploads", []) == []


def test_reads_seek_and_stream_byte_ranges():
    data = bytes(range(256)) * 40_000  # ~10 MB: many buffers
    name = default_storage.save(original(), ContentFile(data))
    with default_storage.open(name) as fh:
        fh.seek(5_000_000)
        assert fh.read(10) == data[5_000_000:5_000_010]
        fh.seek(-3, 2)
        assert fh.read() == data[-3:]
        fh.seek(0)
        assert fh.read(4) == data[:4]
    with pytest.raises(FileNotFoundError):
        default_storage.open(original())
    assert not default_storage.exists(original())


def test_a_photo_is_uploaded_fingerprinted_and_served_with_ranges(
    client, membership, product, django_capture_on_commit_callbacks
):
    data = jpeg()
    client.force_login(membership.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("evidence:product_detail", args=[product.pk]),
            {"files": [SimpleUploadedFile("front.jpg", data)]},
            HTTP_ACCEPT="application/json",
        )
    assert response.status_code in (200, 201), response.content
    photo = ReferencePhoto.objects.get()
    assert photo.status == ReferencePhoto.Status.FINGERPRINTED  # eager Celery
    assert {photo.file.name, photo.thumbnail.name} <= set(stored_names())
    whole = client.get(reverse("evidence:photo_file", args=[photo.pk]))
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == data
    thumb = client.get(reverse("evidence:photo_thumbnail", args=[photo.pk]))
    assert thumb.status_code == 200 and b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"


def test_a_video_is_processed_from_the_bucket_and_seekable_in_the_player(
    client, membership, django_capture_on_commit_callbacks
):
    data = mp4(seconds=4)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.video_ingest(
            merchant=membership.merchant,
            order_ref="ORDER-1",
            upload=ContentFile(data, name="ORDER-1.mp4"),
            filename="ORDER-1.mp4",
            uploader=membership.user,
        )
    video = PackingVideo.objects.get(pk=outcome.obj.pk)
    assert video.status == PackingVideo.Status.READY  # eager Celery: keyframes from S3
    keyframes = list(video.keyframes.all())
    assert keyframes and all(default_storage.exists(k.image.name) for k in keyframes)
    client.force_login(membership.user)
    url = reverse("evidence:video_file", args=[video.pk])
    part = client.get(url, HTTP_RANGE="bytes=100-1123")
    assert part.status_code == 206 and part.content == data[100:1124]
    assert part["Content-Range"] == f"bytes 100-1123/{len(data)}"
    assert client.get(url, HTTP_RANGE="bytes=-10").content == data[-10:]
    assert client.get(url, HTTP_RANGE=f"bytes={len(data)}-").status_code == 416
    whole = client.get(url)
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == data
    frame = client.get(reverse("evidence:keyframe_file", args=[keyframes[0].pk]))
    assert frame.status_code == 200


def test_a_corrupt_video_is_refused_and_nothing_reaches_the_bucket(membership):
    with pytest.raises(ValidationError):
        services.video_ingest(
            merchant=membership.merchant,
            order_ref="ORDER-2",
            upload=ContentFile(mp4()[:300], name="x.mp4"),
            filename="x.mp4",
            uploader=None,
        )
    assert PackingVideo.objects.count() == 0 and stored_names() == []


def test_an_unreachable_object_store_is_a_clear_error_that_keeps_nothing(
    settings, object_storage, product
):
    dead = {**object_storage, "REFUNDGUARD_S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage_from_env(dead)}
    with pytest.raises(StorageUnavailable, match="could not be stored"):
        services.photo_ingest(
            product=product,
            upload=ContentFile(jpeg(), name="a.jpg"),
            filename="a.jpg",
            uploader=None,
        )
    assert ReferencePhoto.objects.count() == 0
