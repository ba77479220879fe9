"""Cursor pagination: stable under inserts, no page counting on large tables."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    """``?cursor=…&page_size=…`` (1–100, default 25); ordering from ``?ordering=``."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"

    def decode_cursor(self, request: Any) -> Any:
        """The cursor, or HTTP 400: a cursor the client mangled is a bad request, not a
        missing page (DRF answers 404)."""
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({"cursor": [str(exc.detail)]}) from None
