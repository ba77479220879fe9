"""Signals other apps listen to (the evidence app knows nothing of disputes)."""

from django.dispatch import Signal

# Sent when a reference photo is fingerprinted (with ``merchant_id`` and
# ``reference_photo_id``) or a packing video's keyframes are ready (``merchant_id`` and
# ``packing_video_id``): new originals may change the analysis of open claims. Sent inside
# the transaction that records it: a receiver's writes commit or roll back with it, and a
# receiver sends its tasks with ``transaction.on_commit``.
evidence_ready = Signal()
