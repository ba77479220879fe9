"""The sweeper knows only what the apps register: each app adds its own kinds of stuck
work in its ``AppConfig.ready``, and ``core`` imports none of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core import sweeper
from evidence.models import ReferencePhoto
from tests.disputes.fixtures import reference_photo, sample
from tests.factories import ProductFactory

sent: list[int] = []


class RecordingTask:
    """Stands in for a Celery task: remembers what was sent."""

    @staticmethod
    def delay(object_id: int) -> None:
        sent.append(object_id)


recording_task = RecordingTask()


def test_every_app_registers_its_own_stuck_work():
    kinds = {work.label: work for work in sweeper.stuck_work_kinds()}
    assert list(kinds) == [
        "reference photos",
        "packing videos",
        "claim photos",
        "re-analyses after new evidence",
        "evidence packs",
    ]
    assert {work.model._meta.app_label for work in kinds.values()} == {
        "evidence",
        "disputes",
        "packs",
    }


@pytest.mark.django_db
def test_a_registered_kind_is_swept(monkeypatch, membership):
    monkeypatch.setattr(sweeper, "_kinds", {})
    sweeper.stuck_work_register(
        sweeper.StuckWork(
            label="test photos",
            model=ReferencePhoto,
            status_field="status",
            pending=ReferencePhoto.Status.PENDING,
            processing=ReferencePhoto.Status.PROCESSING,
            task=f"{__name__}.recording_task",
        )
    )
    product = ProductFactory(merchant=membership.merchant)
    stuck = reference_photo(product, sample("coffee"))
    fresh = reference_photo(product, sample("rocket"), "fresh.jpg")
    ReferencePhoto.objects.filter(pk=stuck.pk).update(
        status="pending", uploaded_at=timezone.now() - timedelta(hours=1)
    )
    ReferencePhoto.objects.filter(pk=fresh.pk).update(status="pending")
    sent.clear()
    assert sweeper.stuck_work_requeue(older_than=timedelta(minutes=10)) == {"test photos": 1}
    assert sent == [stuck.pk]


@pytest.mark.django_db
def test_celery_beat_runs_the_sweeper(settings):
    from config.celery import app

    name = settings.CELERY_BEAT_SCHEDULE["requeue-stuck-work"]["task"]
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    counts = app.tasks[name].apply().get()
    assert set(counts) == {work.label for work in sweeper.stuck_work_kinds()}
