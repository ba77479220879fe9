"""Signals other apps listen to (the evidence app knows nothing of disputes)."""

from django.dispatch import Signal

# Sent after a reference photo is fingerprinted or a packing video's keyframes are
# ready, with ``merchant_id``: new originals may change the analysis of open claims.
evidence_ready = Signal()
