"""File storage for evidence: originals are write-once; derived files are reproducible.

Names are generated, never taken from the uploader: originals get a random name under
their merchant, derived files (thumbnails, keyframes) a name that points back to the
original's SHA-256.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.translation import gettext as _

from evidence.errors import StorageUnavailable

logger = logging.getLogger(__name__)

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
    except FileExistsError:
        raise  # the name belongs to another original: never delete it as "ours"
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
    """Remove a stored file if present (cleanup after a failed write). A storage that is
    down as well is logged, not raised: the failure being cleaned up is what to report."""
    if not name:
        return
    try:
        if default_storage.exists(name):
            default_storage.delete(name)
    except OSError:
        logger.warning("could not remove %s after a failed write", name, exc_info=True)


class ConcatenatedReader(io.RawIOBase):
    """Stored files read back to back as one seekable stream (a chunked upload's parts);
    each part is opened from the storage only while it is read."""

    def __init__(self, parts: Sequence[tuple[str, int]]) -> None:
        super().__init__()
        self._parts = list(parts)
        self._starts = []
        total = 0
        for _name, size in self._parts:
            self._starts.append(total)
            total += size
        self._size = total
        self._position = 0
        self._open: tuple[int, Any] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self._position = base + offset
        return self._position

    def _part_at(self, position: int) -> int:
        index = len(self._starts) - 1
        while self._starts[index] > position:
            index -= 1
        return index

    def readinto(self, buffer: Any) -> int:
        if self._position >= self._size:
            return 0
        index = self._part_at(self._position)
        if self._open is None or self._open[0] != index:
            self._close_part()
            self._open = (index, default_storage.open(self._parts[index][0], "rb"))
        fh = self._open[1]
        if fh.tell() != self._position - self._starts[index]:
            fh.seek(self._position - self._starts[index])
        view = memoryview(buffer).cast("B")
        left_in_part = self._starts[index] + self._parts[index][1] - self._position
        data = fh.read(min(len(view), left_in_part))
        if not data:
            raise OSError(f"stored part {self._parts[index][0]} ended early")
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def _close_part(self) -> None:
        if self._open is not None:
            self._open[1].close()
            self._open = None

    def close(self) -> None:
        self._close_part()
        super().close()


def open_concatenated(parts: Sequence[tuple[str, int]], *, name: str) -> File[Any]:
    """``parts`` (storage name, size) as one readable, seekable file called ``name``."""
    return File(io.BufferedReader(ConcatenatedReader(parts), buffer_size=1024 * 1024), name=name)
