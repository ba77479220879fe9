"""The API's multipart parser: DRF's, on ``core.uploads.FileKeepingParser``, so a file
part named ``..`` is kept as ``unnamed`` rather than silently dropped."""

from __future__ import annotations

from typing import Any

from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser, get_encoding

from core.uploads import FileKeepingParser


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
            data, files = FileKeepingParser(meta, stream, request.upload_handlers, encoding).parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from exc
        return DataAndFiles(data, files)
