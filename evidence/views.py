"""Evidence library pages. Thin: read through selectors, write through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.http import SESSION_MERCHANT_KEY, file_response, request_merchant
from core.selectors import merchant_for_user
from evidence import selectors, services
from evidence.forms import PhotoUploadForm, ProductForm, VideoUploadForm
from evidence.ids import database_id
from evidence.models import PackingVideo, ReferencePhoto


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _photo_json(photo: ReferencePhoto) -> dict[str, Any]:
    return {
        "id": photo.pk,
        "name": photo.original_name,
        "status": photo.status,
        "status_label": photo.get_status_display(),
        "failure_reason": photo.failure_reason,
        # What the card under the thumbnail shows (``_photo_card.html``), so a card the
        # page's script adds reads the same as one the server drew.
        "width": photo.width,
        "height": photo.height,
        "size_bytes": photo.size_bytes,
        "size_label": filesizeformat(photo.size_bytes),
        "sha256": photo.sha256,
        "thumbnail_url": reverse("evidence:photo_thumbnail", args=[photo.pk])
        if photo.thumbnail
        else None,
        "original_url": reverse("evidence:photo_file", args=[photo.pk]),
    }


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The evidence library: products and recent packing videos."""
    merchant = request_merchant(request)
    return render(
        request,
        "evidence/home.html",
        {
            "counts": selectors.library_counts(user=request.user, merchant=merchant),
            "products": selectors.product_list(user=request.user, merchant=merchant),
            "videos": selectors.video_list(user=request.user, merchant=merchant)[:5],
            "product_form": ProductForm(),
            "nav": "library",
        },
    )


@login_required
@require_POST
def merchant_switch(request: HttpRequest) -> HttpResponse:
    """Work for another of the user's merchants."""
    merchant = merchant_for_user(
        user=request.user, merchant_id=database_id(request.POST.get("merchant"))
    )
    if merchant is not None:
        request.session[SESSION_MERCHANT_KEY] = merchant.pk
    return redirect("evidence:home")


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    """Add a product (SKU and title)."""
    merchant = request_merchant(request)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(
                merchant=merchant,
                actor=request.user,
                sku=form.cleaned_data["sku"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Product %(sku)s created.") % {"sku": product.sku})
            return redirect("evidence:product_detail", product_id=product.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "evidence/product_form.html", {"form": form, "nav": "library"}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    """A product's reference photos, and the form to add more (several at once).

    The page's script posts one file per request and asks for JSON, so every file gets
    its own result line; without script the form posts all files and the page lists the
    results.
    """
    product = selectors.access_product_by_id(request.user, product_id)
    results: list[dict[str, Any]] = []
    form = PhotoUploadForm()
    status = 200
    if request.method == "POST":
        files = request.FILES.getlist("files")
        if not files:
            if _wants_json(request):
                return JsonResponse(
                    {"status": "rejected", "message": _("No file was sent.")}, status=400
                )
            form = PhotoUploadForm(request.POST, request.FILES)
            form.is_valid()
            status = 400
        for upload in files:
            result = _ingest_photo(request, product, upload)
            results.append(result)
        if _wants_json(request) and files:
            rejected = any(r["status"] == "rejected" for r in results)
            body = results[0] if len(results) == 1 else {"results": results}
            return JsonResponse(body, status=400 if rejected else 200)
        if results and all(r["status"] == "rejected" for r in results):
            status = 400
    photos = Paginator(selectors.photo_list(user=request.user, product=product), 48).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "evidence/product_detail.html",
        {
            "product": product,
            "photos": photos,
            "form": form,
            "results": results,
            "nav": "library",
        },
        status=status,
    )


def _ingest_photo(request: HttpRequest, product: Any, upload: Any) -> dict[str, Any]:
    name = upload.name or ""
    try:
        outcome = services.photo_ingest(
            product=product, upload=upload, filename=name, uploader=request.user
        )
    except ValidationError as exc:
        return {"name": name, "status": "rejected", "message": _error_text(exc)}
    photo = outcome.obj
    assert isinstance(photo, ReferencePhoto)
    if outcome.is_new:
        message = _("Stored; fingerprinting has started.")
    elif photo.product_id == product.pk:
        message = _("Already in this product's photos (same bytes); not stored twice.")
    else:
        message = _("Already stored under product %(sku)s (same bytes); not stored twice.") % {
            "sku": photo.product.sku
        }
    return {"name": name, "status": outcome.status, "message": message, "photo": _photo_json(photo)}


@login_required
@require_GET
def photo_status(request: HttpRequest) -> JsonResponse:
    """Current status of some of the user's photos (the upload page polls this)."""
    ids = [i for i in (database_id(v) for v in request.GET.get("ids", "").split(",")) if i]
    photos = selectors.photo_statuses(user=request.user, photo_ids=ids[:200])
    return JsonResponse({"photos": [_photo_json(p) for p in photos]})


@login_required
@require_http_methods(["GET", "POST"])
def video_list(request: HttpRequest) -> HttpResponse:
    """The merchant's packing videos, searchable by order number, and the upload form."""
    merchant = request_merchant(request)
    form = VideoUploadForm()
    status = 200
    # The page's script sends the form itself (to show progress) and asks for JSON: it
    # gets where to go next, or the errors — never a page to paint over the current one.
    wants_json = "application/json" in request.headers.get("Accept", "")
    if request.method == "POST":
        form = VideoUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                outcome = services.video_ingest(
                    merchant=merchant,
                    order_ref=form.cleaned_data["order_ref"],
                    upload=upload,
                    filename=upload.name or "",
                    uploader=request.user,
                )
            except ValidationError as exc:
                form.add_error("file", _error_text(exc))
            else:
                video = outcome.obj
                if outcome.is_new:
                    messages.success(request, _("Video stored; keyframes are being extracted."))
                else:
                    messages.info(
                        request,
                        _("This video is already stored (order %(order)s); not stored twice.")
                        % {"order": video.order_ref},  # type: ignore[union-attr]
                    )
                if wants_json:  # the message waits in the session for that page
                    url = reverse("evidence:video_detail", args=[video.pk])
                    return JsonResponse({"redirect": url})
                return redirect("evidence:video_detail", video_id=video.pk)
        if wants_json:
            errors = {field: [str(m) for m in msgs] for field, msgs in form.errors.items()}
            message = " ".join(m for msgs in errors.values() for m in msgs)
            return JsonResponse({"errors": errors, "message": message}, status=400)
        status = 400
    query = request.GET.get("order", "")
    videos = Paginator(
        selectors.video_list(user=request.user, merchant=merchant, order_ref=query), 25
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "evidence/video_list.html",
        {"videos": videos, "form": form, "query": query, "nav": "videos"},
        status=status,
    )


@login_required
@require_GET
def video_detail(request: HttpRequest, video_id: int) -> HttpResponse:
    """A packing video with its keyframe strip and timestamps."""
    video = selectors.access_video_by_id(request.user, video_id)
    keyframes = selectors.keyframe_list(user=request.user, video=video)
    busy = video.status in (PackingVideo.Status.PENDING, PackingVideo.Status.PROCESSING)
    template = (
        "evidence/_video_status.html"
        if request.GET.get("fragment")
        else "evidence/video_detail.html"
    )
    return render(
        request, template, {"video": video, "keyframes": keyframes, "busy": busy, "nav": "videos"}
    )


# --- Files: served only through these views, after the merchant check -------------


@login_required
@require_GET
def photo_file(request: HttpRequest, photo_id: int) -> HttpResponseBase:
    """The original photo, byte for byte (inline, or as a download with ?download=1)."""
    photo = selectors.access_photo_by_id(request.user, photo_id)
    return file_response(
        photo.file.name,
        content_type=photo.content_type,
        download_name=photo.original_name,
        attachment=bool(request.GET.get("download")),
    )


@login_required
@require_GET
def photo_thumbnail(request: HttpRequest, photo_id: int) -> HttpResponseBase:
    """A photo's thumbnail (derived JPEG)."""
    photo = selectors.access_photo_by_id(request.user, photo_id)
    return file_response(
        photo.thumbnail.name,
        content_type="image/jpeg",
        download_name=f"thumb-{photo.sha256[:12]}.jpg",
        attachment=False,
    )


@login_required
@require_GET
def video_file(request: HttpRequest, video_id: int) -> HttpResponseBase:
    """The original packing video, byte for byte."""
    video = selectors.access_video_by_id(request.user, video_id)
    return file_response(
        video.file.name,
        content_type=video.content_type,
        download_name=video.original_name,
        attachment=bool(request.GET.get("download")),
        range_header=request.headers.get("Range", ""),
    )


@login_required
@require_GET
def keyframe_file(request: HttpRequest, keyframe_id: int) -> HttpResponseBase:
    """A keyframe still (derived JPEG)."""
    keyframe = selectors.access_keyframe_by_id(request.user, keyframe_id)
    return file_response(
        keyframe.image.name,
        content_type="image/jpeg",
        download_name=f"{keyframe.video.order_ref}-{keyframe.t_seconds:.1f}s.jpg",
        attachment=bool(request.GET.get("download")),
    )
