"""Disk full (or any storage error) while saving an upload: a clear error, and no row
without its file nor file without its row — on the pages, in the API, for every kind."""

from __future__ import annotations

import errno

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from disputes.models import ClaimImage, Dispute
from evidence.models import PackingVideo, ReferencePhoto
from tests.api.conftest import api  # noqa: F401 - the API client fixture
from tests.conftest import stored_names
from tests.disputes.fixtures import jpeg_bytes, sample
from tests.evidence.test_services import mp4

pytestmark = pytest.mark.django_db


@pytest.fixture
def disk_full(monkeypatch):
    """The storage writes half the file, then the disk is full."""
    real_save = FileSystemStorage._save

    def failing_save(self, name, content):  # type: ignore[no-untyped-def]
        path = self.path(name)
        import os

        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", failing_save)
    yield
    monkeypatch.setattr(FileSystemStorage, "_save", real_save)


def originals() -> list[str]:
    return stored_names("originals")


def test_photo_upload_page_says_so_and_keeps_nothing(client, membership, product, disk_full):
    client.force_login(membership.user)
    response = client.post(
        reverse("evidence:product_detail", args=[product.pk]),
        {"files": [SimpleUploadedFile("front.jpg", jpeg_bytes(sample("coffee")))]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code in (200, 400)
    assert "No space left on device" in response.content.decode()
    assert ReferencePhoto.objects.count() == 0 and originals() == []


def test_video_upload_page_says_so_and_keeps_nothing(client, membership, disk_full):
    client.force_login(membership.user)
    response = client.post(
        reverse("evidence:video_list"),
        {"order_ref": "O-1", "file": SimpleUploadedFile("v.mp4", mp4(seconds=1))},
    )
    assert response.status_code == 400
    assert "could not be stored" in response.content.decode()
    assert PackingVideo.objects.count() == 0 and originals() == []


def test_dispute_with_photos_is_refused_whole(client, membership, disk_full):
    client.force_login(membership.user)
    response = client.post(
        reverse("disputes:create"),
        {
            "platform": "jd", "external_id": "JD-1", "order_ref": "O", "claim_type": "refund_only",
            "amount": "1", "currency": "CNY", "respond_by": "2030-01-01T12:00",
            "photos": [SimpleUploadedFile("a.jpg", jpeg_bytes(sample("coffee")))],
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert "could not be stored" in response.content.decode()
    assert Dispute.objects.count() == 0 and ClaimImage.objects.count() == 0
    assert originals() == []


def test_api_answers_503_and_keeps_nothing(api, disk_full):  # noqa: F811
    from tests.api.test_endpoints import dispute_fields

    response = api.client.post(
        "/api/v1/disputes/",
        {**dispute_fields(), "photos": [SimpleUploadedFile("a.jpg", jpeg_bytes(sample("coffee")))]},
        format="multipart",
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert Dispute.objects.count() == 0 and originals() == []
