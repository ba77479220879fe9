"""Every API error as ``{"error": {"code", "message", "fields"?}}`` with a 4xx status.

Codes are stable (clients branch on them); messages are for people. Django's own
``ValidationError`` and ``PermissionDenied`` from the services map to 400 and 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from evidence.errors import StorageUnavailable

CODES: dict[type[Exception], str] = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


class Conflict(exceptions.APIException):
    """The request conflicts with the resource's current state (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"
    #: Machine-readable facts added to the error body (e.g. the upload's offset).
    extra: dict[str, Any] = {}


class UnprocessableRequest(exceptions.APIException):
    """A well-formed request that cannot be honoured as sent (HTTP 422)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "Unprocessable request."
    default_code = "unprocessable"
    extra: dict[str, Any] = {}


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        text = _first_message(value)
        return text if key in ("non_field_errors", "__all__", "detail") else f"{key}: {text}"
    return str(detail)


def from_django(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ``ValidationError`` as DRF's, fields kept."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {
                ("non_field_errors" if k == "__all__" else k): [
                    str(m) for m in DjangoValidationError(v).messages
                ]
                for k, v in exc.error_dict.items()
            }
        )
    return exceptions.ValidationError({"non_field_errors": [str(m) for m in exc.messages]})


class ServiceUnavailable(exceptions.APIException):
    """Storage (or another backend) cannot take the request now; retry later (503)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Temporarily unavailable; try again later."
    default_code = "storage_unavailable"
    extra: dict[str, Any] = {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, then our envelope."""
    if isinstance(exc, StorageUnavailable):
        exc = ServiceUnavailable(" ".join(str(m) for m in exc.messages))
    elif isinstance(exc, DjangoValidationError):
        exc = from_django(exc)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    own = Conflict | UnprocessableRequest | ServiceUnavailable
    code = getattr(exc, "default_code", None) if isinstance(exc, own) else None
    code = code or next((c for t, c in CODES.items() if isinstance(exc, t)), "error")
    detail = response.data
    body: dict[str, Any] = {"code": code, "message": _first_message(detail)}
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        body["fields"] = detail
    if isinstance(exc, own) and getattr(exc, "extra", None):
        body.update(exc.extra)
    response.data = {"error": body}
    return response
