"""Which storage holds the evidence, from the environment (read by ``config.settings``).

``REFUNDGUARD_S3_BUCKET`` set: S3-compatible object storage (``evidence.object_storage``),
what several web and worker machines need since none of them shares a disk with another.
Unset: ``None``, and the local write-once folder under ``MEDIA_ROOT`` stays the default.
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
