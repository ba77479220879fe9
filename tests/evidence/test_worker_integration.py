"""A real Celery worker process against a real Redis and the real test database."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from evidence import services
from evidence.models import PackingVideo, ReferencePhoto
from tests.conftest import stored_bytes_replace, wait_for
from tests.evidence.test_services import jpeg, mp4
from tests.factories import MembershipFactory, ProductFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_fingerprints_an_uploaded_photo(celery_worker_process):
    product = ProductFactory(merchant=MembershipFactory().merchant)
    with transaction.atomic():
        photo = services.photo_ingest(
            product=product,
            upload=ContentFile(jpeg(), name="front.jpg"),
            filename="front.jpg",
            uploader=None,
        ).obj
        # Enqueued only after commit: inside the transaction nothing has happened yet.
        assert ReferencePhoto.objects.get(pk=photo.pk).status == ReferencePhoto.Status.PENDING

    def fingerprinted() -> bool:
        return ReferencePhoto.objects.get(pk=photo.pk).status == ReferencePhoto.Status.FINGERPRINTED

    assert wait_for(fingerprinted, timeout=60), "the worker did not fingerprint the photo"
    photo.refresh_from_db()
    assert photo.fingerprints.count() == 3
    assert photo.thumbnail


def test_worker_extracts_keyframes_and_fails_cleanly_on_bad_video(celery_worker_process):
    merchant = MembershipFactory().merchant
    good = services.video_ingest(
        merchant=merchant, order_ref="O-1", upload=ContentFile(mp4(), name="a.mp4"),
        filename="a.mp4", uploader=None,
    ).obj  # fmt: skip
    with transaction.atomic():
        bad = services.video_ingest(
            merchant=merchant, order_ref="O-2", upload=ContentFile(mp4(seconds=3), name="b.mp4"),
            filename="b.mp4", uploader=None,
        ).obj  # fmt: skip
        # The stored file is damaged after upload (e.g. storage corruption).
        stored_bytes_replace(bad.file.name, b"\x00" * 2048)

    def settled() -> bool:
        statuses = set(
            PackingVideo.objects.filter(pk__in=[good.pk, bad.pk]).values_list("status", flat=True)
        )
        return (
            statuses <= {PackingVideo.Status.READY, PackingVideo.Status.FAILED}
            and len(statuses) == 2
        )

    assert wait_for(settled, timeout=60)
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == PackingVideo.Status.READY and good.keyframes.exists()
    assert bad.status == PackingVideo.Status.FAILED and bad.failure_reason
