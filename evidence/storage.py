"""File storage for evidence: originals are write-once; derived files are reproducible.

Names are generated, never taken from the uploader: originals get a random name under
their merchant, derived files (thumbnails, keyframes) a name that points back to the
original's SHA-256.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.translation import gettext as _

from evidence.errors import StorageUnavailable

ORIGINALS_PREFIX = "originals/"
DERIVED_PREFIX = "derived/"


class WriteOnceStorage(FileSystemStorage):
    """Local storage that refuses to overwrite or rename an existing original."""

    def _save(self, name: str, content: Any) -> str:
        if name.startswith(ORIGINALS_PREFIX) and self.exists(name):
            raise FileExistsError(f"refusing to overwrite original {name}")
        return super()._save(name, content)  # type: ignore[misc]


def original_name(*, merchant_id: int, kind: str, extension: str) -> str:
    """A fresh storage name for an original upload."""
    return f"{ORIGINALS_PREFIX}{merchant_id}/{kind}/{uuid.uuid4().hex}.{extension}"


def derived_name(*, source_sha256: str, label: str) -> str:
    """The storage name of a file derived from the original with ``source_sha256``."""
    return f"{DERIVED_PREFIX}{source_sha256[:2]}/{source_sha256}/{label}"


def save_original(content: File[Any], *, name: str) -> str:
    """Store an original's bytes under ``name``; returns the name actually used."""
    content.seek(0)
    try:
        stored = default_storage.save(name, content)
    except OSError as exc:
        delete_quietly(name)  # a half-written file must not outlive the failed upload
        raise StorageUnavailable(
            _("The file could not be stored (%(reason)s). Nothing was kept; try again later.")
            % {"reason": exc.strerror or type(exc).__name__},
            code="storage_unavailable",
        ) from exc
    if stored != name:  # pragma: no cover - a storage backend that renamed it
        default_storage.delete(stored)
        raise FileExistsError(f"storage renamed {name} to {stored}")
    return stored


def save_derived(data: bytes, *, name: str) -> str:
    """Store a derived file, replacing an earlier copy (it is reproducible)."""
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(data))


def delete_quietly(name: str) -> None:
    """Remove a stored file if present (cleanup after a failed write)."""
    if name and default_storage.exists(name):
        default_storage.delete(name)
