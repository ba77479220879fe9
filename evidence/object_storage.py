"""Evidence in S3-compatible object storage (django-storages + boto3).

Chosen in ``config/settings.py`` when ``REFUNDGUARD_S3_BUCKET`` is set; the local
``evidence.storage.WriteOnceStorage`` stays the default otherwise. What the local storage
promises holds here too:

- originals are write-once: a conditional PUT (``If-None-Match: *``, also on the
  completion of a multipart upload) makes the server refuse an overwrite atomically, even
  between two hosts racing for one name; for a server without conditional writes
  (``conditional_put=False``) the name is checked first (their names are random UUIDs,
  so two uploads never pick one name in practice);
- reads stream: an open file is a seekable reader that fetches byte ranges as it goes,
  so a video's HTTP Range request, FFmpeg's seeks and a pack's ZIP never pull a whole
  object into memory or onto a local disk;
- every failure of the object store is an ``OSError`` (``FileNotFoundError`` for a
  missing object, ``FileExistsError`` for a refused overwrite), which the services and
  tasks already treat as a storage error (clear message, retried with backoff).
"""

from __future__ import annotations

import errno
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from evidence.storage import ORIGINALS_PREFIX

T = TypeVar("T")

#: Originals up to this size go in one conditional PUT; larger ones in parts.
SINGLE_PUT_MAX_BYTES = 16 * 1024 * 1024
#: Part size of a multipart original (S3 wants at least 5 MB but for the last part).
PART_BYTES = 16 * 1024 * 1024
#: How much a reader fetches ahead (one ranged GET serves many small reads).
READ_BUFFER_BYTES = 1024 * 1024


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _as_os_error(error: Exception, key: str) -> OSError:
    """The object store's failure as the ``OSError`` the rest of the code expects."""
    if isinstance(error, ClientError):
        status = _status(error)
        code = str(error.response.get("Error", {}).get("Code", "")) or str(status)
        if status == 404 or code in {"NoSuchKey", "404", "NotFound"}:
            return FileNotFoundError(errno.ENOENT, "object not found", key)
        if status == 412 or code == "PreconditionFailed":
            return FileExistsError(errno.EEXIST, "refusing to overwrite original", key)
        return OSError(errno.EIO, f"object storage error {code}", key)
    return OSError(errno.EIO, f"object storage unreachable ({type(error).__name__})", key)


@contextmanager
def _object_errors(key: str) -> Iterator[None]:
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise _as_os_error(error, key) from error


class ObjectRangeReader(io.RawIOBase):
    """A seekable, read-only view of one object: each read after a seek opens one ranged
    GET from that position, later reads continue on the same response."""

    def __init__(self, client: Any, *, bucket: str, key: str, size: int) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._size = size
        self._position = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._position + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise OSError(errno.EINVAL, "negative seek position")
        if target != self._position:
            self._drop_body()
            self._position = target
        return self._position

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._position)
        if wanted <= 0:
            return 0
        with _object_errors(self._key):
            try:
                data = self._read_body(wanted)
            except BotoCoreError:
                # A response left open while a slow client read (a long video) may have
                # timed out: one fresh GET from the same position, then it is an error.
                self._drop_body()
                data = self._read_body(wanted)
        if not data:  # the object shrank under us: a write-once object never does
            raise OSError(errno.EIO, "object ended early", self._key)
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def _read_body(self, wanted: int) -> bytes:
        if self._body is None:
            response = self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={self._position}-"
            )
            self._body = response["Body"]
        return bytes(self._body.read(wanted))

    def readall(self) -> bytes:
        # One GET for the rest, not the base class's many small reads.
        chunks = []
        while piece := self.read(max(READ_BUFFER_BYTES, self._size - self._position)):
            chunks.append(piece)
        return b"".join(chunks)

    def close(self) -> None:
        self._drop_body()
        super().close()


class WriteOnceS3Storage(S3Storage):
    """S3-compatible storage whose originals cannot be overwritten (see the module)."""

    def __init__(
        self, *, conditional_put: bool = True, every_name_once: bool = False, **options: Any
    ) -> None:
        super().__init__(**options)
        self.conditional_put = conditional_put
        # True for a storage that holds nothing but write-once objects (the audit anchors).
        self.every_name_once = every_name_once

    def _write_once(self, name: str) -> bool:
        return self.every_name_once or str(clean_name(name)).startswith(ORIGINALS_PREFIX)

    @property
    def _client(self) -> Any:
        return self.connection.meta.client

    def _key(self, name: str) -> str:
        return str(self._normalize_name(clean_name(name)))

    def _guarded(self, name: str, call: Callable[[], T]) -> T:
        with _object_errors(name):
            return call()

    # --- Reads ------------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        if "r" not in mode or "+" in mode:
            return self._guarded(name, lambda: super(WriteOnceS3Storage, self)._open(name, mode))
        key = self._key(name)
        with _object_errors(name):
            head = self._client.head_object(Bucket=self.bucket_name, Key=key)
        size = int(head["ContentLength"])
        raw = ObjectRangeReader(self._client, bucket=self.bucket_name, key=key, size=size)
        opened = File(io.BufferedReader(raw, buffer_size=READ_BUFFER_BYTES), name=name)
        opened.size = size  # known from the HEAD: no seek to the end to learn it
        return opened

    def exists(self, name: str) -> bool:
        return self._guarded(name, lambda: bool(super(WriteOnceS3Storage, self).exists(name)))

    def size(self, name: str) -> int:
        return self._guarded(name, lambda: int(super(WriteOnceS3Storage, self).size(name)))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self._guarded(path, lambda: super(WriteOnceS3Storage, self).listdir(path))

    def delete(self, name: str) -> None:
        self._guarded(name, lambda: super(WriteOnceS3Storage, self).delete(name))

    # --- Writes -----------------------------------------------------------------------

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # Never rename an original: a taken name must be refused by the write itself.
        if self._write_once(name):
            return str(clean_name(name))
        return str(super().get_available_name(name, max_length))

    def _save(self, name: str, content: Any) -> str:
        cleaned = str(clean_name(name))
        if not self._write_once(cleaned):
            return self._guarded(
                name, lambda: str(super(WriteOnceS3Storage, self)._save(name, content))
            )
        key = self._key(cleaned)
        if not self.conditional_put and self.exists(cleaned):
            raise FileExistsError(errno.EEXIST, "refusing to overwrite original", cleaned)
        params = self._get_write_parameters(key, content)
        if hasattr(content, "seek"):
            content.seek(0)
        with _object_errors(cleaned):
            first = content.read(SINGLE_PUT_MAX_BYTES + 1)
            if len(first) <= SINGLE_PUT_MAX_BYTES:
                self._client.put_object(
                    Bucket=self.bucket_name, Key=key, Body=first, **self._once(), **params
                )
            else:
                self._put_in_parts(key, first, content, params)
        return cleaned

    def _once(self) -> dict[str, str]:
        return {"IfNoneMatch": "*"} if self.conditional_put else {}

    def _put_in_parts(self, key: str, first: bytes, content: Any, params: dict[str, Any]) -> None:
        """A large original as a multipart upload, completed only if the name is free."""
        started = self._client.create_multipart_upload(Bucket=self.bucket_name, Key=key, **params)
        upload_id = started["UploadId"]
        try:
            parts = []
            pending = first
            number = 1
            while True:
                while len(pending) < PART_BYTES:
                    more = content.read(PART_BYTES - len(pending))
                    if not more:
                        break
                    pending += more
                if not pending:
                    break
                sent = self._client.upload_part(
                    Bucket=self.bucket_name,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=pending[:PART_BYTES],
                )
                parts.append({"ETag": sent["ETag"], "PartNumber": number})
                pending = pending[PART_BYTES:]
                number += 1
            self._client.complete_multipart_upload(
                Bucket=self.bucket_name,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                **self._once(),
            )
        except BaseException:
            # If even the abort fails, the bucket's rule for stale uploads cleans it up.
            with suppress(BotoCoreError, ClientError):
                self._client.abort_multipart_upload(
                    Bucket=self.bucket_name, Key=key, UploadId=upload_id
                )
            raise
