"""Each kind of work has its own Celery queue: claims, photo fingerprints, videos, packs,
webhooks and the periodic maintenance; the workers of ``make run`` and of the tests take
them all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from django.conf import settings

from config.celery import app as celery_app

#: Every task of the project and the queue it must go to.
EXPECTED = {
    "disputes.claim_image_analyze": "claims",
    "disputes.merchant_reanalyse": "claims",
    "evidence.photo_fingerprint": "evidence",
    "disputes.original_index_extend": "evidence",
    "evidence.video_process": "video",
    "packs.evidence_pack_build": "packs",
    "api.tasks.webhook_deliver_task": "webhooks",
    "api.tasks.uploads_expire_task": "maintenance",
    "core.stuck_work_requeue": "maintenance",
}


def test_each_task_is_routed_to_its_queue():
    celery_app.loader.import_default_modules()  # what a worker does at start
    ours = {name for name in celery_app.tasks if not name.startswith("celery.")}
    # A new task must be given its queue here (and in CELERY_TASK_ROUTES) on purpose.
    assert ours == set(EXPECTED)
    for name, queue in EXPECTED.items():
        assert celery_app.amqp.router.route({}, name)["queue"].name == queue, name
    assert celery_app.amqp.router.route({}, "not.routed")["queue"].name == "default"


def test_a_worker_started_without_queues_takes_every_queue():
    # `celery -A config worker` with no -Q consumes from task_queues: all of them.
    assert set(celery_app.amqp.queues) == set(settings.TASK_QUEUES)
    assert set(EXPECTED.values()) | {"default"} == set(settings.TASK_QUEUES)
    # Each bound under its own key: a message sent through the exchange by routing key
    # reaches one queue, never all of them.
    for name, queue in celery_app.amqp.queues.items():
        assert (queue.exchange.type, queue.routing_key) == ("direct", name)


@pytest.fixture
def broker(redis_url: str) -> Iterator[object]:
    """The real Redis as the broker, with no worker: what is sent stays queued."""
    from tests.conftest import _reset_broker_connections

    old = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = redis_url, False
    _reset_broker_connections()
    celery_app.control.purge()
    try:
        with celery_app.connection_for_write() as connection:
            yield connection.default_channel.client
    finally:
        celery_app.control.purge()
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = old
        _reset_broker_connections()


@pytest.mark.integration
def test_messages_land_in_their_queues_on_the_broker(broker):
    for name in EXPECTED:
        celery_app.send_task(name)  # routed by name, as ``delay`` is
    queued = {queue: broker.llen(queue) for queue in settings.TASK_QUEUES}  # type: ignore[attr-defined]
    assert queued == {queue: Counter(EXPECTED.values())[queue] for queue in settings.TASK_QUEUES}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_test_worker_consumes_every_queue(worker):
    from tests.conftest import wait_for

    replies: dict[str, list[dict[str, object]]] = {}

    def answered() -> bool:
        replies.update(celery_app.control.inspect(timeout=2).active_queues() or {})
        return bool(replies)

    assert wait_for(answered, timeout=60), "the worker never answered"
    (queues,) = replies.values()
    assert {q["name"] for q in queues} == set(settings.TASK_QUEUES)
