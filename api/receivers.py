"""Dispute events become webhook deliveries."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from api import webhooks
from disputes import events


@receiver(events.analysis_completed)
def _analysis_completed(sender: Any, dispute_id: int, **kwargs: Any) -> None:
    webhooks.events_queue(webhooks.ANALYSIS_COMPLETED, dispute_id)


@receiver(events.dispute_decided)
def _dispute_decided(sender: Any, dispute_id: int, **kwargs: Any) -> None:
    webhooks.events_queue(webhooks.DISPUTE_DECIDED, dispute_id)
