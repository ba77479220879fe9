"""AI-generation and editing provenance labels read from an image file's bytes. No Django.

``read_provenance(data)`` returns every label found, in this order, one module per format:

* ``content_credentials`` — C2PA manifests (c2pa-python), validated offline: an Invalid
  credential, the active manifest's AI ``digitalSourceType`` and editing actions, then
  its ingredients'.
* ``xmp`` — IPTC ``DigitalSourceType``, the TC260 ``AIGC`` label, ``xmp:CreatorTool`` and
  the edit history's software agents, a generator credit, Midjourney's job id.
* ``png_chunks`` — PNG text: ``AIGC``, SD WebUI/Fooocus ``parameters``, ComfyUI graphs,
  InvokeAI, SwarmUI, NovelAI, Midjourney, ``Software``.
* ``exif`` — ``UserComment`` (AIGC JSON or SD parameters), ``Software``,
  ``ProcessingSoftware`` and Midjourney's job id in ``ImageDescription``.
* ``stealth`` — generation metadata hidden in a PNG's pixel LSBs (stealth PNG info).

``containers`` finds the blocks, ``aigc`` and ``generators`` parse the values, ``common``
holds the label type. Absent metadata gives ``[]``: absence is never a label. No pixel is
decoded but a PNG's first rows (and its whole image only when they carry a stealth
signature), every read is bounded, malformed input is skipped, never raised.
"""

from forensics.provenance.aigc import parse_aigc
from forensics.provenance.common import ProvenanceLabel
from forensics.provenance.content_credentials import labels_from_c2pa_store, read_trust_anchors
from forensics.provenance.generators import (
    classify_software,
    looks_like_sd_parameters,
    parse_sd_parameters,
)
from forensics.provenance.reader import read_provenance

__all__ = [
    "ProvenanceLabel",
    "classify_software",
    "labels_from_c2pa_store",
    "looks_like_sd_parameters",
    "parse_aigc",
    "parse_sd_parameters",
    "read_provenance",
    "read_trust_anchors",
]
