"""The entry point: every reader run over one file's bytes, labels merged in a stable order."""

from __future__ import annotations

import logging

from forensics.provenance.common import ProvenanceLabel
from forensics.provenance.containers import Blocks, collect, sniff
from forensics.provenance.content_credentials import labels_from_c2pa
from forensics.provenance.exif import labels_from_exif
from forensics.provenance.png_chunks import labels_from_png_text
from forensics.provenance.stealth import labels_from_png_pixels
from forensics.provenance.xmp import labels_from_xmp

logger = logging.getLogger(__name__)


def read_provenance(data: bytes, *, trust_anchors: str | None = None) -> list[ProvenanceLabel]:
    """Every provenance label found in an image file's bytes; ``[]`` when none.

    ``trust_anchors``: a PEM bundle of C2PA trust anchors (none: every C2PA signer is
    "not on a trust list").

    Reads C2PA, XMP, PNG text chunks and EXIF without decoding pixels; of a PNG, only the
    first rows are decoded to look for stealth PNG info (all of it only when it is there).
    Never raises on malformed input: whatever cannot be parsed is skipped (and logged at
    debug level). Labels are de-duplicated on (code, source, field, value) and keep a
    stable order: C2PA, XMP, PNG text chunks, EXIF, PNG pixels.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        return []
    if not isinstance(data, bytes):
        data = bytes(data)
    if not data:
        return []
    labels: list[ProvenanceLabel] = []
    mime = sniff(data)
    try:
        labels.extend(labels_from_c2pa(data, mime, trust_anchors=trust_anchors))
    except Exception:
        logger.debug("provenance: C2PA reading failed", exc_info=True)
    try:
        blocks = collect(data, mime)
    except Exception:
        logger.debug("provenance: metadata collection failed", exc_info=True)
        blocks = Blocks(xmp=[], texts=[], exif=[])
    for packet in blocks.xmp:
        try:
            labels.extend(labels_from_xmp(packet))
        except Exception:
            logger.debug("provenance: XMP packet unreadable", exc_info=True)
    try:
        labels.extend(labels_from_png_text(blocks.texts))
    except Exception:
        logger.debug("provenance: PNG text unreadable", exc_info=True)
    try:
        labels.extend(labels_from_exif(blocks, data, mime))
    except Exception:
        logger.debug("provenance: EXIF unreadable", exc_info=True)
    labels.extend(labels_from_png_pixels(data, mime))  # never raises
    unique: list[ProvenanceLabel] = []
    seen: set[tuple[str, str, str, str]] = set()
    for label in labels:
        key = (label.code, label.source, label.field, label.value)
        if key not in seen:
            seen.add(key)
            unique.append(label)
    return unique
