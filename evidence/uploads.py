"""Upload validation: file names, size caps and content sniffing, before anything is stored.

Every check raises ``django.core.exceptions.ValidationError`` with a message meant for
the uploader; nothing here writes a file or a row.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from forensics.errors import MediaRejected
from forensics.fingerprints import PhotoInfo, inspect_photo
from forensics.keyframes import VideoInfo, probe_video

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileDigest:
    """SHA-256 and size of a file's bytes."""

    sha256: str
    size: int


def clean_filename(name: str) -> str:
    """Return the name to display for an upload, or refuse a name that tries a path."""
    if not name or not name.strip():
        raise ValidationError(_("The file has no name."), code="name")
    if len(name) > 255:
        raise ValidationError(_("The file name is longer than 255 characters."), code="name")
    if "/" in name or "\\" in name or name.strip() in {".", ".."} or ".." in name.split("."):
        raise ValidationError(
            _("The file name “%(name)s” contains a path; send the file itself.") % {"name": name},
            code="name",
        )
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValidationError(_("The file name contains control characters."), code="name")
    return name.strip()


def digest(fileobj: IO[bytes]) -> FileDigest:
    """Stream a file once and return its SHA-256 and size."""
    fileobj.seek(0)
    sha = hashlib.sha256()
    size = 0
    while chunk := fileobj.read(_CHUNK):
        sha.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return FileDigest(sha.hexdigest(), size)


def _check_size(size: int, limit: int) -> None:
    if size == 0:
        raise ValidationError(_("The file is empty (0 bytes)."), code="empty")
    if size > limit:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_large",
        )


def validate_photo(fileobj: IO[bytes], *, size: int) -> PhotoInfo:
    """Check a photo's size and content; return what it is."""
    _check_size(size, settings.PHOTO_MAX_BYTES)
    try:
        return inspect_photo(fileobj, max_pixels=settings.PHOTO_MAX_PIXELS)
    except MediaRejected as exc:
        # The engine marks its fixed refusals (the formats it accepts) for translation.
        raise ValidationError(_(str(exc)), code="content") from None
    finally:
        fileobj.seek(0)


def validate_video(fileobj: Any, *, size: int) -> VideoInfo:
    """Check a video's size and content (probed with PyAV); return what it is."""
    _check_size(size, settings.VIDEO_MAX_BYTES)
    source = fileobj.temporary_file_path() if hasattr(fileobj, "temporary_file_path") else fileobj
    try:
        return probe_video(source, max_seconds=settings.VIDEO_MAX_SECONDS)
    except MediaRejected as exc:
        raise ValidationError(str(exc), code="content") from None
    finally:
        fileobj.seek(0)
