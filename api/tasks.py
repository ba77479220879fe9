"""Thin Celery tasks of the integration API."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from api import services, webhooks

#: Backoff between tries: 30 s, 1, 2, 4, 8, 16, 32 min … capped at 1 h, with jitter.
WEBHOOK_RETRIES = 8


@shared_task
def uploads_expire_task() -> int:
    """The sweeper's hourly pass over abandoned chunked uploads."""
    return services.uploads_expire()


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(webhooks.TransientDeliveryError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=WEBHOOK_RETRIES,
)
def webhook_deliver_task(self: Any, delivery_id: int) -> str:
    """POST one webhook event; retried with backoff until it is answered 2xx."""
    try:
        return webhooks.delivery_attempt(delivery_id).status
    except webhooks.TransientDeliveryError:
        if self.request.retries >= WEBHOOK_RETRIES:
            webhooks.delivery_give_up(delivery_id)
            return "failed"
        raise
