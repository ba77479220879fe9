"""Every write of the integration API: tokens, webhook endpoints, chunked uploads."""

from __future__ import annotations

import hashlib
import logging
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api import signing
from api.destinations import ForbiddenDestination, destination_check
from api.models import ApiToken, ChunkedUpload, WebhookEndpoint
from core.access import acts_for, is_owner
from core.audit import audit_record
from core.models import Merchant
from evidence.errors import StorageUnavailable
from evidence.storage import delete_quietly, open_concatenated

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "rg_"  # noqa: S105 - a public marker, not a secret
READ_CHUNK = 1024 * 1024


def _require_owner(user: Any, merchant: Merchant) -> None:
    if not is_owner(user, merchant):
        raise PermissionDenied(_("Only the merchant's owner manages integrations."))


def _require_member(actor: Any | None, merchant: Merchant | int) -> None:
    if not acts_for(actor, merchant):
        raise PermissionDenied(_("Only the merchant attaches its evidence."))


def token_hash(secret: str) -> str:
    """What is stored for a token: the SHA-256 of the whole token string."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token; ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def token_create(*, merchant: Merchant, actor: Any, name: str) -> IssuedToken:
    """Issue a named token acting for ``merchant``."""
    _require_owner(actor, merchant)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name (e.g. the system using it).")})
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            merchant=merchant,
            name=name[:100],
            prefix=prefix,
            key_hash=token_hash(secret),
            created_by=actor,
        )
        audit_record(
            merchant=merchant, actor=actor, action="api_token.created", data={"prefix": prefix}
        )
    return IssuedToken(token, secret)


def token_revoke(*, token: ApiToken, actor: Any) -> ApiToken:
    """Revoke a token at once (idempotent)."""
    _require_owner(actor, token.merchant)
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                merchant=token.merchant,
                actor=actor,
                action="api_token.revoked",
                data={"prefix": token.prefix},
            )
    return token


def webhook_endpoint_create(*, merchant: Merchant, actor: Any, url: str) -> WebhookEndpoint:
    """Register a URL for signed event notifications."""
    _require_owner(actor, merchant)
    url = url.strip()
    if not url.startswith(("https://", "http://")):
        raise ValidationError({"url": _("Use an http:// or https:// URL.")})
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when it is not a number from 0 to 65535
    except ValueError:
        port = 0
    if not parts.hostname:
        raise ValidationError({"url": _("The URL has no host name.")})
    if port is not None and not 0 < port <= 65535:
        raise ValidationError({"url": _("The port must be a number from 1 to 65535.")})
    try:
        destination_check(url)
    except ForbiddenDestination as exc:
        raise ValidationError({"url": str(exc)}) from None
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            merchant=merchant, url=url, secret=signing.new_secret(), created_by=actor
        )
        audit_record(merchant=merchant, actor=actor, action="webhook.created", data={"url": url})
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Any) -> None:
    """Stop sending events to an endpoint (its delivery log goes with it)."""
    _require_owner(actor, endpoint.merchant)
    with transaction.atomic():
        audit_record(
            merchant=endpoint.merchant,
            actor=actor,
            action="webhook.deleted",
            data={"url": endpoint.url},
        )
        endpoint.delete()


# --- Chunked uploads ---------------------------------------------------------------


class UploadOffsetMismatch(Exception):
    """The client sent bytes for an offset the server is not at."""

    def __init__(self, expected: int) -> None:
        super().__init__(expected)
        self.expected = expected


PARTS_PREFIX = "partial/"
#: A chunk is spooled in memory up to this size, beyond it in a local temporary file,
#: before it is stored as one part (the request's own scratch, never shared state).
SPOOL_BYTES = 8 * 1024 * 1024


def _parts_folder(upload: ChunkedUpload) -> str:
    return f"{PARTS_PREFIX}{upload.pk}/"


def _part_name(upload: ChunkedUpload, start: int, end: int) -> str:
    # Zero-padded so a listing sorts by offset; the end makes a listing enough to chain.
    return f"{_parts_folder(upload)}{start:015d}-{end:015d}"


def _stored_parts(upload: ChunkedUpload) -> list[tuple[int, int, str]]:
    """Every part object stored for ``upload`` as (start, end, name), by start."""
    try:
        _folders, files = default_storage.listdir(_parts_folder(upload))
    except FileNotFoundError:
        return []
    parts = []
    for file_name in files:
        start, _, end = file_name.partition("-")
        if start.isdigit() and end.isdigit():
            parts.append((int(start), int(end), _parts_folder(upload) + file_name))
    return sorted(parts)


def upload_parts(upload: ChunkedUpload) -> list[tuple[str, int]]:
    """The parts holding bytes ``0..upload.offset``, in order, as (name, size).

    Parts live in the default storage (object storage in production), so any web host
    can take any PATCH. A part left by a PATCH whose commit failed starts at or beyond
    the acknowledged offset and is skipped here (and replaced by the next PATCH)."""
    chain: list[tuple[str, int]] = []
    position = 0
    for start, end, name in _stored_parts(upload):
        if start == position and end <= upload.offset:
            chain.append((name, end - start))
            position = end
    if position != upload.offset:
        raise StorageUnavailable(
            _("The stored parts of this upload are incomplete; start the upload again."),
            code="storage_unavailable",
        )
    return chain


def upload_open(upload: ChunkedUpload) -> File[Any]:
    """The bytes received so far as one readable, seekable file (from any host)."""
    try:
        return open_concatenated(upload_parts(upload), name=upload.filename)
    except StorageUnavailable:
        raise
    except OSError as exc:
        raise StorageUnavailable(
            _("The upload could not be read back (%(reason)s); try again later.")
            % {"reason": exc.strerror or type(exc).__name__},
            code="storage_unavailable",
        ) from exc


def _parts_delete(upload: ChunkedUpload, *, from_offset: int = 0) -> None:
    for start, _end, name in _stored_parts(upload):
        if start >= from_offset:
            default_storage.delete(name)
    if from_offset == 0:
        delete_quietly(_parts_folder(upload).rstrip("/"))  # the local storage's folder


def upload_start(*, merchant: Merchant, actor: Any, filename: str, size: int) -> ChunkedUpload:
    """Open a resumable upload of ``size`` bytes (the merchant's own people only)."""
    _require_member(actor, merchant)
    if size <= 0:
        raise ValidationError({"size": _("The size must be a positive number of bytes.")})
    if size > settings.VIDEO_MAX_BYTES:
        raise ValidationError(
            {"size": _("The file is larger than the %(mb)d MB limit.")
             % {"mb": settings.VIDEO_MAX_BYTES // 1_000_000}}
        )  # fmt: skip
    return ChunkedUpload.objects.create(
        merchant=merchant, filename=filename.strip()[:255] or "upload", size=size, created_by=actor
    )


def upload_append(
    *, upload: ChunkedUpload, actor: Any | None, offset: int, stream: IO[bytes], length: int
) -> int:
    """Append ``length`` bytes sent for ``offset``; returns the new offset.

    The row is locked so two concurrent PATCHes cannot interleave; a wrong offset is
    refused with the offset the server has (the client resumes from there)."""
    _require_member(actor, upload.merchant_id)
    with transaction.atomic():
        locked = ChunkedUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.consumed_at is not None:
            raise ValidationError(_("This upload has already been used."))
        if offset != locked.offset:
            raise UploadOffsetMismatch(locked.offset)
        if length < 0 or locked.offset + length > locked.size:
            raise ValidationError(_("More bytes than the declared size."))
        part_name = ""
        try:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
                written = 0
                while written < length:
                    piece = stream.read(min(READ_CHUNK, length - written))
                    if not piece:
                        break
                    spool.write(piece)
                    written += len(piece)
                # Whatever an earlier PATCH left beyond the acknowledged offset is garbage.
                _parts_delete(locked, from_offset=locked.offset)
                if written:
                    part_name = _part_name(locked, locked.offset, locked.offset + written)
                    spool.seek(0)
                    default_storage.save(part_name, File(spool))
        except OSError as exc:
            delete_quietly(part_name)  # none of this chunk is kept
            raise StorageUnavailable(
                _(
                    "The bytes could not be stored (%(reason)s). Nothing of this part was kept; "
                    "send it again later from offset %(offset)s."
                )
                % {"reason": exc.strerror or type(exc).__name__, "offset": locked.offset},
                code="storage_unavailable",
            ) from exc
        locked.offset += written
        locked.save(update_fields=["offset", "updated_at"])
    return locked.offset


def uploads_expire(*, now: datetime | None = None) -> int:
    """Delete unfinished or unused uploads idle for ``UPLOAD_IDLE_HOURS`` and their bytes
    (a client that gave up, or an upload refused as a video, would otherwise keep its
    partial file for ever). Returns how many were removed."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.UPLOAD_IDLE_HOURS)
    stale = ChunkedUpload.objects.filter(consumed_at__isnull=True, updated_at__lt=cutoff)
    removed = 0
    for upload in stale.iterator():
        # Row first: a PATCH racing the sweep then finds no upload rather than no file.
        if ChunkedUpload.objects.filter(pk=upload.pk, updated_at__lt=cutoff).delete()[0]:
            try:
                _parts_delete(upload)
            except OSError:  # the bucket's rule for partial/ expires what is left
                logger.warning("could not delete the parts of upload %s", upload.pk, exc_info=True)
            removed += 1
    return removed


def upload_consume(*, upload: ChunkedUpload) -> None:
    """Mark a complete upload used and delete its bytes (they now live as an original)."""
    ChunkedUpload.objects.filter(pk=upload.pk).update(consumed_at=timezone.now())
    try:
        _parts_delete(upload)
    except OSError:  # the video is stored; the bucket's rule for partial/ expires the rest
        logger.warning("could not delete the parts of upload %s", upload.pk, exc_info=True)
