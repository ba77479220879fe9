"""What happened to a dispute, for whoever listens (the webhooks); sent after commit.

Each signal carries ``dispute_id``. Senders never depend on listeners.
"""

from __future__ import annotations

import django.dispatch
from django.db import transaction

#: Every claim photo of the dispute has been analysed (or has failed).
analysis_completed = django.dispatch.Signal()
#: A reviewer recorded a decision.
dispute_decided = django.dispatch.Signal()


def send_on_commit(signal: django.dispatch.Signal, dispute_id: int) -> None:
    """Send ``signal`` once the current transaction commits (now, outside one)."""
    from disputes.models import Dispute

    transaction.on_commit(lambda: signal.send(sender=Dispute, dispute_id=dispute_id))
