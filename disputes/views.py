"""Dispute pages. Thin: reads through selectors, writes through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from disputes import selectors, services
from disputes.forms import ClaimPhotosForm, DecisionForm, DisputeForm
from disputes.models import ClaimImage, Dispute
from evidence.views import _file_response, _merchant


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


@login_required
@require_GET
def dispute_list(request: HttpRequest) -> HttpResponse:
    """The merchant's disputes with risk and deadline."""
    merchant = _merchant(request)
    query = request.GET.get("q", "")
    status = request.GET.get("status", "")
    disputes = Paginator(
        selectors.dispute_list(user=request.user, merchant=merchant, query=query, status=status),
        25,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "disputes/dispute_list.html",
        {
            "disputes": disputes,
            "query": query,
            "status": status,
            "statuses": Dispute.Status.choices,
            "now": timezone.now(),
            "nav": "disputes",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def dispute_create(request: HttpRequest) -> HttpResponse:
    """Open a dispute and attach the buyer's photos."""
    merchant = _merchant(request)
    form = DisputeForm(request.POST or None, request.FILES or None, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dispute = services.dispute_open(
                merchant=merchant,
                actor=request.user,
                platform=data["platform"],
                external_id=data["external_id"],
                order_ref=data["order_ref"],
                buyer_ref=data["buyer_ref"],
                product=data["product"],
                claim_type=data["claim_type"],
                reason=data["reason"],
                amount=data["amount"],
                currency=data["currency"],
                respond_by=data["respond_by"],
                photos=[(f, f.name or "") for f in request.FILES.getlist("photos")],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error("photos", _errors(exc))
        else:
            messages.success(request, _("Dispute opened; the photos are being analysed."))
            return redirect("disputes:detail", dispute_id=dispute.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "disputes/dispute_form.html", {"form": form, "nav": "disputes"}, status=status
    )


@login_required
@require_GET
def dispute_detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """The dispute, each claim photo's verdict with its evidence, and the decision."""
    dispute = selectors.dispute_get(user=request.user, dispute_id=dispute_id)
    images = list(dispute.claim_images.all())
    busy = any(
        i.analysis_status in (ClaimImage.Status.PENDING, ClaimImage.Status.PROCESSING)
        for i in images
    )
    context: dict[str, Any] = {
        "dispute": dispute,
        "images": images,
        "originals": selectors.matched_originals(user=request.user, dispute=dispute),
        "busy": busy,
        "nav": "disputes",
    }
    if request.GET.get("fragment"):
        return render(request, "disputes/_claim_images.html", context)
    context.update(
        {
            "keyframes": selectors.order_keyframes(user=request.user, dispute=dispute),
            "audit": selectors.dispute_audit_trail(user=request.user, dispute=dispute),
            "decisions": dispute.decisions.select_related("reviewer"),
            "decision_form": DecisionForm(),
            "photos_form": ClaimPhotosForm(),
        }
    )
    return render(request, "disputes/dispute_detail.html", context)


@login_required
@require_POST
def dispute_decide(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Record a decision (a person decides; the analysis only flags)."""
    dispute = selectors.dispute_get(user=request.user, dispute_id=dispute_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.dispute_decide(
                dispute=dispute,
                actor=request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
        else:
            messages.success(request, _("Decision recorded."))
    else:
        messages.error(request, _("Choose a decision."))
    return redirect("disputes:detail", dispute_id=dispute.pk)


@login_required
@require_POST
def claim_photos_add(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Attach more buyer photos."""
    dispute = selectors.dispute_get(user=request.user, dispute_id=dispute_id)
    files = request.FILES.getlist("photos")
    if not files:
        messages.error(request, _("Choose at least one photo."))
        return redirect("disputes:detail", dispute_id=dispute.pk)
    try:
        added = services.claim_images_add(
            dispute=dispute, actor=request.user, photos=[(f, f.name or "") for f in files]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(
            request, _("%(n)d photo(s) added; analysis has started.") % {"n": len(added)}
        )
    return redirect("disputes:detail", dispute_id=dispute.pk)


@login_required
@require_POST
def claim_image_retry(request: HttpRequest, claim_image_id: int) -> HttpResponse:
    """Run the analysis of one claim photo again."""
    image = selectors.claim_image_get(user=request.user, claim_image_id=claim_image_id)
    services.claim_image_requeue(claim_image=image, actor=request.user)
    messages.info(request, _("The photo is being analysed again."))
    return redirect("disputes:detail", dispute_id=image.dispute_id)


@login_required
@require_GET
def claim_image_file(request: HttpRequest, claim_image_id: int) -> HttpResponseBase:
    """The buyer's photo, byte for byte."""
    image = selectors.claim_image_get(user=request.user, claim_image_id=claim_image_id)
    return _file_response(
        image.file.name,
        content_type=image.content_type,
        download_name=image.original_name,
        attachment=bool(request.GET.get("download")),
    )


@login_required
@require_GET
def claim_image_derived(request: HttpRequest, claim_image_id: int, kind: str) -> HttpResponseBase:
    """A claim photo's thumbnail or difference heatmap."""
    image = selectors.claim_image_get(user=request.user, claim_image_id=claim_image_id)
    field = image.heatmap if kind == "heatmap" else image.thumbnail
    content_type = "image/png" if kind == "heatmap" else "image/jpeg"
    return _file_response(
        field.name,
        content_type=content_type,
        download_name=f"{kind}-{image.sha256[:12]}.{'png' if kind == 'heatmap' else 'jpg'}",
        attachment=False,
    )
