"""Which storage holds the evidence, from the environment (read by ``config.settings``).

``REFUNDGUARD_S3_BUCKET`` set: S3-compatible object storage (``evidence.object_storage``),
what several web and worker machines need since none of them shares a disk with another.
Unset: ``None``, and the local write-once folder under ``MEDIA_ROOT`` stays the default.
With S3, the audit chains' anchors go there too (``s3_anchor_storage_from_env``), so every
host writes to, and ``verify_custody`` on any host reads, the same anchors.
Pure (no Django import), so the tests build the same options for their own S3 server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def s3_storage_from_env(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The ``STORAGES["default"]`` entry for the S3 settings in ``environ``, if any."""
    bucket = environ.get("REFUNDGUARD_S3_BUCKET", "").strip()
    if not bucket:
        return None
    endpoint = environ.get("REFUNDGUARD_S3_ENDPOINT_URL", "").strip() or None
    conditional = environ.get("REFUNDGUARD_S3_CONDITIONAL_PUT", "true").strip().lower()
    return {
        "BACKEND": "evidence.object_storage.WriteOnceS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            # Unset keys: boto3's own chain (instance role, AWS_* variables, ~/.aws).
            "access_key": environ.get("REFUNDGUARD_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": environ.get("REFUNDGUARD_S3_SECRET_ACCESS_KEY", "") or None,
            "region_name": environ.get("REFUNDGUARD_S3_REGION", "") or None,
            "location": environ.get("REFUNDGUARD_S3_PREFIX", "").strip("/"),
            # Self-hosted servers (SeaweedFS, MinIO) answer on one host name: path style.
            "addressing_style": "path" if endpoint else None,
            "signature_version": "s3v4",
            "default_acl": None,  # private: files are served by the scoped views only
            "file_overwrite": True,  # derived files are reproducible; originals never are
            # If-None-Match: * refuses an overwrite of an original atomically; "false" for
            # a server without conditional writes (then the name is checked first).
            "conditional_put": conditional not in {"0", "false", "no", "off"},
        },
    }


#: Where the anchors go inside the evidence storage's prefix (or the anchor bucket's).
ANCHORS_LOCATION = "audit-anchors"


def s3_anchor_storage_from_env(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The ``STORAGES["audit_anchors"]`` entry: the audit chains' anchors as write-once
    objects, in ``REFUNDGUARD_AUDIT_ANCHOR_BUCKET`` (e.g. a bucket with S3 Object Lock,
    which not even the app's own keys can rewrite) or else beside the evidence under
    ``audit-anchors/``. ``None`` without S3: the local anchor log is used."""
    evidence = s3_storage_from_env(environ)
    if evidence is None:
        return None
    options = dict(evidence["OPTIONS"])
    bucket = environ.get("REFUNDGUARD_AUDIT_ANCHOR_BUCKET", "").strip()
    if bucket:
        options["bucket_name"] = bucket
        options["location"] = ANCHORS_LOCATION
    else:
        options["location"] = "/".join(p for p in (options["location"], ANCHORS_LOCATION) if p)
    options["every_name_once"] = True  # an anchor is never rewritten, whatever its name
    return {**evidence, "OPTIONS": options}
