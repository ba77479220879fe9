"""AI-generation and editing provenance labels read from an image file's bytes. No Django.

``read_provenance(data)`` returns every label found, in this order, one module per format:

* ``content_credentials`` — C2PA manifests (c2pa-python): AI ``digitalSourceType`` terms.
* ``xmp`` — IPTC ``DigitalSourceType``, the TC260 ``AIGC`` label, ``xmp:CreatorTool``.
* ``png_chunks`` — PNG text: ``AIGC``, SD WebUI ``parameters``, ComfyUI graphs, ``Software``.
* ``exif`` — ``UserComment`` (AIGC JSON or SD parameters) and ``Software``.

``containers`` finds the blocks, ``aigc`` and ``generators`` parse the values, ``common``
holds the label type. Absent metadata gives ``[]``: absence is never a label. No pixel is
decoded, every read is bounded, malformed input is skipped, never raised.
"""

from forensics.provenance.aigc import parse_aigc
from forensics.provenance.common import ProvenanceLabel
from forensics.provenance.content_credentials import labels_from_c2pa_store
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
]
