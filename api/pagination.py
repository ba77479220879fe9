"""Cursor pagination: stable under inserts, no page counting on large tables."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    """``?cursor=…&page_size=…`` (1–100, default 25); ordering from ``?ordering=``."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"
