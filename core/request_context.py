"""Who is asking, for the audit trail: the client IP of the current web request.

A middleware puts it in a context variable for the duration of the request, so the
services record it without every signature carrying it; work done by Celery workers
has no client and records none.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def _ip_of(request: HttpRequest) -> str | None:
    # Behind a reverse proxy the app sees the proxy; trust its header only when told to.
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class ClientIpMiddleware:
    """Remember the client IP while the request is handled."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client_ip.set(_ip_of(request))
        try:
            return self.get_response(request)
        finally:
            client_ip.reset(token)
