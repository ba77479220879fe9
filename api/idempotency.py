"""``Idempotency-Key`` on create requests: a replay returns the first result.

The first request with a key claims it (a unique row, so two concurrent requests cannot
both run); when it succeeds its response is stored and every replay of the same request
gets that response back with ``Idempotent-Replayed: true``. The same key with a different
request is refused (422); a replay while the first is still running gets 409. A request
that failed is not remembered, so the client can fix it and retry with the same key.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict, UnprocessableRequest
from api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def request_fingerprint(request: Request) -> str:
    """SHA-256 over the method, path, form/JSON fields and every uploaded file's bytes."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    data = request.data
    items: list[tuple[str, Any]] = []
    if hasattr(data, "lists"):
        items = [(k, v) for k, values in data.lists() for v in values]
    elif isinstance(data, dict):
        items = list(data.items())
    for key, value in sorted(items, key=lambda kv: kv[0]):
        if hasattr(value, "chunks"):
            file_digest = hashlib.sha256()
            for chunk in value.chunks():
                file_digest.update(chunk)
            value.seek(0)
            value = f"file:{value.name}:{file_digest.hexdigest()}"
        digest.update(f"{key}={value!r}\n".encode())
    return digest.hexdigest()


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap a viewset's create-like handler."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise UnprocessableRequest(f"{HEADER} is longer than {MAX_KEY_LENGTH} characters.")
        merchant = request.auth.merchant
        fingerprint = request_fingerprint(request)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    merchant=merchant,
                    key=key,
                    method=request.method or "",
                    path=request.path[:300],
                    fingerprint=fingerprint,
                )
        except IntegrityError:
            earlier = IdempotencyRecord.objects.get(merchant=merchant, key=key)
            if earlier.fingerprint != fingerprint:
                raise UnprocessableRequest(
                    f"This {HEADER} was used for a different request."
                ) from None
            if earlier.state != IdempotencyRecord.State.DONE:
                raise Conflict(f"A request with this {HEADER} is still being processed.") from None
            response = Response(earlier.response_body, status=earlier.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = handler(view, request, *args, **kwargs)
        except BaseException:
            record.delete()
            raise
        if 200 <= response.status_code < 300:
            record.state = IdempotencyRecord.State.DONE
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["state", "status_code", "response_body"])
        else:
            record.delete()
        return response

    return wrapper
