"""Task policy: transient errors are retried a bounded number of times and then
recorded; bad input is never retried."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from django.core.files.base import ContentFile

from evidence import services, tasks
from evidence.models import ReferencePhoto
from tests.conftest import stored_bytes_replace
from tests.evidence.test_services import jpeg


@pytest.fixture
def photo(product):
    return services.photo_ingest(
        product=product, upload=ContentFile(jpeg(), name="a.jpg"), filename="a.jpg", uploader=None
    ).obj


def test_transient_errors_are_retried_with_bounded_backoff():
    for task in (tasks.photo_fingerprint_task, tasks.video_process_task):
        assert OSError in task.autoretry_for
        assert task.max_retries == 5
        assert task.retry_backoff and task.retry_jitter


@pytest.mark.django_db
def test_transient_error_is_retried_not_recorded(photo, monkeypatch):
    def flaky(*, photo_id: int) -> None:
        raise OSError("storage unavailable")

    monkeypatch.setattr(services, "photo_fingerprint", flaky)
    with pytest.raises(Retry):
        tasks.photo_fingerprint_task.apply(args=[photo.pk], throw=True)
    photo.refresh_from_db()
    assert photo.status == ReferencePhoto.Status.PENDING


@pytest.mark.django_db
def test_final_failure_after_retries_is_recorded_on_the_row(photo):
    task = tasks.photo_fingerprint_task
    task.on_failure(OSError("storage unavailable"), "task-id", (photo.pk,), {}, None)
    photo.refresh_from_db()
    assert photo.status == ReferencePhoto.Status.FAILED
    assert "storage unavailable" in photo.failure_reason


@pytest.mark.django_db
def test_bad_input_is_not_retried(photo, monkeypatch):
    stored_bytes_replace(photo.file.name, b"not an image any more")
    calls = []
    real = services.photo_fingerprint

    def counting(*, photo_id: int) -> ReferencePhoto:
        calls.append(photo_id)
        return real(photo_id=photo_id)

    monkeypatch.setattr(services, "photo_fingerprint", counting)
    tasks.photo_fingerprint_task.apply(args=[photo.pk])
    assert len(calls) == 1
    photo.refresh_from_db()
    assert photo.status == ReferencePhoto.Status.FAILED


@pytest.mark.django_db
def test_task_for_a_deleted_row_does_nothing(photo):
    photo_id = photo.pk
    ReferencePhoto.objects.filter(pk=photo_id).delete()
    result = tasks.photo_fingerprint_task.apply(args=[photo_id])
    assert result.successful()


def test_tasks_acknowledge_late():
    assert tasks.photo_fingerprint_task.acks_late
    assert tasks.video_process_task.acks_late


@pytest.mark.django_db
def test_a_librarys_internal_error_is_never_shown_to_the_user(photo):
    """An OpenCV assertion or a singular matrix reaches the log, not the merchant."""
    task = tasks.photo_fingerprint_task
    internal = RuntimeError("OpenCV(4.10) error: (-215:Assertion failed) !_src.empty()")
    task.on_failure(internal, "0123456789abcdef", (photo.pk,), {}, None)
    photo.refresh_from_db()
    assert photo.status == ReferencePhoto.Status.FAILED
    assert "OpenCV" not in photo.failure_reason and "01234567" in photo.failure_reason
