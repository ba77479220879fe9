"""Errors the evidence layer raises when storage cannot take a file."""

from django.core.exceptions import ValidationError


class StorageUnavailable(ValidationError):
    """The storage refused an upload (disk full, permissions, backend down). Nothing was
    kept; the message tells the user to try again. A ``ValidationError`` so every upload
    form shows it; the API answers it with 503."""
