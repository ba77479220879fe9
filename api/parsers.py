"""The API's multipart parser: no uploaded file is dropped without a word.

Django's parser silently skips a file part whose name sanitises to nothing (``..``,
``.``, ``a/``, control characters only), so a dispute opened with two photos, one of
them named ``..``, was created with one. Here such a file is kept under the name
``unnamed`` and goes through the same checks as any other upload (its content decides).
"""

from __future__ import annotations

from typing import Any

from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser, get_encoding

#: The name a file gets whose own name sanitises to nothing.
UNNAMED_FILE = "unnamed"


class _FileKeepingParser(DjangoMultiPartParser):
    def sanitize_file_name(self, file_name: str) -> str | None:
        # Called only for a part that sent a file name: "" (no file chosen) never gets here.
        return super().sanitize_file_name(file_name) or UNNAMED_FILE


class FileKeepingMultiPartParser(MultiPartParser):
    """DRF's multipart parser on a Django parser that keeps every named file part."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> DataAndFiles:
        """The form's fields and files (a file named ``..`` becomes ``unnamed``)."""
        parser_context = parser_context or {}
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        encoding = get_encoding(parser_context)  # DRF's: refuses decompressing codecs
        try:
            data, files = _FileKeepingParser(
                meta, stream, request.upload_handlers, encoding
            ).parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from exc
        return DataAndFiles(data, files)
