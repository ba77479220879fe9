"""What every app's pages share: the merchant the signed-in user works for, the time zone
its pages read times in, and serving a stored file privately (after the caller's access
check)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import reviewer_for
from core.models import Merchant
from core.selectors import merchant_for_user
from core.timezones import zone

#: The session key of the merchant the user chose to work for.
SESSION_MERCHANT_KEY = "merchant_id"


#: Where ``session_merchant`` keeps its answer on the request (read once per request).
_MERCHANT_ATTR = "_refundguard_merchant"


def session_merchant(request: HttpRequest) -> Merchant | None:
    """The merchant the signed-in user works for (their choice, else their first), or
    ``None``: read once per request (the middleware, the page and its template share it)."""
    chosen = request.session.get(SESSION_MERCHANT_KEY)
    cached: tuple[Any, Merchant | None] | None = getattr(request, _MERCHANT_ATTR, None)
    if cached is None or cached[0] != chosen:
        cached = (chosen, merchant_for_user(user=request.user, merchant_id=chosen))
        setattr(request, _MERCHANT_ATTR, cached)
    return cached[1]


def request_merchant(request: HttpRequest) -> Merchant:
    """The merchant the signed-in user works for (their choice, else their first), or
    404 when they act for none."""
    merchant = session_merchant(request)
    if merchant is None:
        raise Http404(_("Your account is not linked to a merchant yet."))
    return merchant


def request_time_zone(request: HttpRequest) -> str | None:
    """The zone a page reads times in: the merchant the user works for (its members type
    and read deadlines in the shop's zone), else the support reviewer's own; ``None``
    (UTC) for anyone else."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    merchant = session_merchant(request)
    if merchant is not None:
        return merchant.time_zone
    reviewer = reviewer_for(user)
    return reviewer.time_zone if reviewer is not None else None


class TimeZoneMiddleware:
    """Activate the page's zone (``request_time_zone``) for the request: forms read typed
    times in it and templates show times in it. After ``AuthenticationMiddleware``. The
    API activates its token's merchant's zone itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request_time_zone(request)
        if name:
            timezone.activate(zone(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
RANGE_CHUNK = 8 * 1024 * 1024


def file_response(
    name: str | None,
    *,
    content_type: str,
    download_name: str,
    attachment: bool,
    range_header: str = "",
) -> HttpResponseBase:
    """Serve a stored file privately; a single byte range (``Range: bytes=a-b``) is
    honoured so the browser's video player can seek in a long packing video."""
    if not name:
        raise Http404("File not found.")
    # One open, whatever the storage: in a bucket it is one HEAD, and the reads after it
    # are ranged GETs of just the bytes asked for.
    try:
        fh = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("File not found.") from None
    size = fh.size
    match = _RANGE.match(range_header.strip()) if range_header else None
    response: HttpResponseBase
    if match and (match.group(1) or match.group(2)):
        with fh:
            first, last = match.groups()
            start = int(first) if first else max(0, size - int(last))
            end = min(int(last), size - 1) if first and last else size - 1
            # A player asks for "bytes=0-"; answer in bounded chunks, never a whole file.
            end = min(end, start + RANGE_CHUNK - 1)
            if start >= size or start > end:
                response = HttpResponse(status=416)
                response["Content-Range"] = f"bytes */{size}"
                return response
            fh.seek(start)
            body = fh.read(end - start + 1)
        response = HttpResponse(body, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(
            fh, content_type=content_type, as_attachment=attachment, filename=download_name
        )
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
