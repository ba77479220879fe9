"""No uploaded file is dropped without a word, on the pages or the API.

Django's multipart parser silently skips a file part whose name sanitises to nothing
(``..``, ``.``, ``a/``, control characters only): a form or an API call sent with two
photos, one of them named ``..``, went on with one. Here such a file is kept under the
name ``unnamed`` and goes through the same checks as any other upload (its content
decides). ``FileKeepingUploadsMiddleware`` gives every page this parser;
``api.parsers`` gives it to DRF.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponseBase, QueryDict
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import ImmutableList, MultiValueDict

#: The name a file gets whose own name sanitises to nothing.
UNNAMED_FILE = "unnamed"


class FileKeepingParser(MultiPartParser):
    """Django's multipart parser, keeping every file part that sent a file name."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        """The sanitised name, or ``unnamed`` where Django's would drop the file."""
        # Called only for a part that sent a name: "" (no file chosen) never gets here.
        return super().sanitize_file_name(file_name) or UNNAMED_FILE


def _parse_keeping_files(
    request: HttpRequest, meta: Any, post_data: Any
) -> tuple[QueryDict, MultiValueDict[str, UploadedFile]]:
    """``HttpRequest.parse_file_upload`` with ``FileKeepingParser``."""
    request.upload_handlers = ImmutableList(  # as Django's own does
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    parser = FileKeepingParser(meta, post_data, request.upload_handlers, request.encoding)
    return parser.parse()


class FileKeepingUploadsMiddleware:
    """Parses the pages' multipart forms with ``FileKeepingParser`` (set before any
    middleware or view reads ``request.POST``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        def parse_file_upload(
            META: Any, post_data: Any
        ) -> tuple[QueryDict, MultiValueDict[str, UploadedFile]]:
            return _parse_keeping_files(request, META, post_data)

        request.parse_file_upload = parse_file_upload  # type: ignore[method-assign]
        return self.get_response(request)
