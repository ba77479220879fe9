"""Signals other apps listen to (the evidence app knows nothing of disputes)."""

from django.dispatch import Signal

# Sent after a reference photo is fingerprinted (with ``merchant_id`` and
# ``reference_photo_id``) or a packing video's keyframes are ready (``merchant_id`` and
# ``packing_video_id``): new originals may change the analysis of open claims.
evidence_ready = Signal()
