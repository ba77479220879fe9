"""Forms for the evidence pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

#: What the photo inputs offer (the server checks the content: forensics.fingerprints).
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,image/avif,.heic,.heif,.avif"


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that accepts several files at once."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field whose cleaned value is a list of uploaded files."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ProductForm(forms.Form):
    """A new product."""

    sku = forms.CharField(label=_("SKU"), max_length=100)
    title = forms.CharField(label=_("Title"), max_length=300, required=False)


class PhotoUploadForm(forms.Form):
    """One or more reference photos for a product."""

    files = MultipleFileField(  # type: ignore[assignment]
        label=_("Photos"),
        widget=MultipleFileInput(attrs={"accept": PHOTO_ACCEPT}),
    )


class VideoUploadForm(forms.Form):
    """A packing video and the order it shows."""

    order_ref = forms.CharField(label=_("Order number"), max_length=100)
    file = forms.FileField(
        label=_("Video"),
        widget=forms.ClearableFileInput(
            attrs={"accept": "video/mp4,video/quicktime,video/webm,video/x-matroska,.mkv"}
        ),
    )
