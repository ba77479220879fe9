"""Dispute pages. Thin: reads through selectors, writes through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import can_review, is_member, is_reviewer
from core.http import file_response, request_merchant
from disputes import selectors, services
from disputes.buyer_history import buyer_counts
from disputes.forms import (
    ClaimPhotosForm,
    DecisionForm,
    DisputeForm,
    EvidenceAttachForm,
    InternalNoteForm,
    QueueFilterForm,
    StatementForm,
)
from disputes.models import ClaimImage, Dispute
from disputes.templatetags.findings import reader_audience


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _form_errors(form: Any, exc: ValidationError) -> None:
    """Put a service's validation errors on the form that caused them."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, _errors(exc))


@login_required
@require_GET
def dispute_list(request: HttpRequest) -> HttpResponse:
    """The merchant's disputes with risk and deadline."""
    merchant = request_merchant(request)
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
    merchant = request_merchant(request)
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
            _say_repeated_photos(request, len(request.FILES.getlist("photos")), dispute)
            return redirect("disputes:detail", dispute_id=dispute.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "disputes/dispute_form.html", {"form": form, "nav": "disputes"}, status=status
    )


def _detail_context(
    request: HttpRequest,
    dispute_id: int,
    *,
    decision_form: DecisionForm | None = None,
    note_form: InternalNoteForm | None = None,
    statement_form: StatementForm | None = None,
    attach_form: EvidenceAttachForm | None = None,
) -> dict[str, Any]:
    dispute = selectors.access_dispute_by_id(request.user, dispute_id)
    images = list(dispute.claim_images.all())
    done = sum(
        1
        for i in images
        if i.analysis_status in (ClaimImage.Status.ANALYSED, ClaimImage.Status.FAILED)
    )
    reviewing = can_review(request.user, dispute.merchant_id)
    member = is_member(request.user, dispute.merchant_id)
    context: dict[str, Any] = {
        "dispute": dispute,
        "images": images,
        "done": done,
        "busy": done < len(images),
        "originals": selectors.matched_originals(user=request.user, dispute=dispute),
        "reviewing": reviewing,
        "member": member,
        # Findings say "your photo" to the merchant's members, "the merchant's" to reviewers.
        "audience": reader_audience(member=member),
        "nav": "queue" if reviewing and not member else "disputes",
        # The polled fragment carries the audit trail too: it changes as photos are done.
        "audit": selectors.dispute_audit_trail(user=request.user, dispute=dispute),
    }
    if request.GET.get("fragment"):
        return context
    context.update(
        {
            "keyframes": selectors.order_keyframes(user=request.user, dispute=dispute),
            "videos": selectors.order_videos(user=request.user, dispute=dispute),
            "decisions": dispute.decisions.select_related("reviewer"),
            "history": selectors.buyer_history(user=request.user, dispute=dispute),
            "buyer": buyer_counts(dispute),
            "notes": selectors.internal_notes(user=request.user, dispute=dispute),
            "decision_form": decision_form or DecisionForm(initial={"version": dispute.version}),
            "note_form": note_form or InternalNoteForm(),
            "statement_form": statement_form
            or StatementForm(initial={"text": dispute.merchant_statement}),
            "attach_form": attach_form
            or EvidenceAttachForm(
                merchant=dispute.merchant, initial={"product": dispute.product_id}
            ),
            "photos_form": ClaimPhotosForm(),
            "is_final": dispute.is_final,
            "can_decide": reviewing and dispute.status not in Dispute.FINAL,
        }
    )
    return context


@login_required
@require_GET
def dispute_detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """The dispute, each claim photo's verdict with its evidence, and the decision."""
    context = _detail_context(request, dispute_id)
    if request.GET.get("fragment"):
        # What the page polls while analysis runs: the claim photos, the risk chip and
        # the audit trail (static/js/app.js swaps each in by id).
        return render(request, "disputes/_live.html", context)
    services.dispute_viewed(dispute=context["dispute"], actor=request.user)
    return render(request, "disputes/dispute_detail.html", context)


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Support reviewers' queue: awaiting a decision, riskiest first, then deadline."""
    if not is_reviewer(request.user):
        raise PermissionDenied(_("The review queue is for support staff."))
    merchants = list(selectors.review_merchants(user=request.user))
    form = QueueFilterForm(request.GET, merchants=merchants)
    filters = form.filters()
    page = Paginator(selectors.review_queue(user=request.user, **filters), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "disputes/review_queue.html",
        {
            "form": form,
            "page": page,
            "filtered": any(v for k, v in filters.items()),
            "now": timezone.now(),
            "nav": "queue",
        },
    )


@login_required
@require_POST
def dispute_decide(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Record a reviewer's decision (the analysis only flags; a person decides)."""
    dispute = selectors.access_dispute_by_id(request.user, dispute_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        outcome, requested_from = form.outcome
        try:
            services.dispute_decide(
                dispute=dispute,
                actor=request.user,
                outcome=outcome,
                note=form.cleaned_data["note"],
                requested_from=requested_from,
                expected_version=form.cleaned_data["version"],
            )
        except services.DecisionConflict as exc:
            # Keep what the reviewer typed, show the latest state, write nothing.
            messages.error(request, " ".join(_errors(exc)))
            fresh = DecisionForm(
                initial={
                    "action": form.cleaned_data["action"],
                    "note": form.cleaned_data["note"],
                    "version": selectors.access_dispute_by_id(request.user, dispute_id).version,
                }
            )
            context = _detail_context(request, dispute_id, decision_form=fresh)
            context["unsent"] = {
                "action": dict(form.fields["action"].choices)[form.cleaned_data["action"]],  # type: ignore[attr-defined]
                "note": form.cleaned_data["note"],
            }
            return render(request, "disputes/dispute_detail.html", context, status=409)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("disputes:detail", dispute_id=dispute.pk)
    context = _detail_context(request, dispute_id, decision_form=form)
    return render(request, "disputes/dispute_detail.html", context, status=400)


@login_required
@require_POST
def internal_note_add(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Add a support-staff note."""
    dispute = selectors.access_dispute_by_id(request.user, dispute_id)
    form = InternalNoteForm(request.POST)
    if form.is_valid():
        try:
            services.internal_note_add(
                dispute=dispute, actor=request.user, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Note added."))
            return redirect(f"{reverse('disputes:detail', args=[dispute.pk])}#notes")
    context = _detail_context(request, dispute_id, note_form=form)
    return render(request, "disputes/dispute_detail.html", context, status=400)


@login_required
@require_POST
def statement_save(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Save the merchant's statement."""
    dispute = selectors.access_dispute_by_id(request.user, dispute_id)
    form = StatementForm(request.POST)
    if form.is_valid():
        try:
            services.merchant_statement_save(
                dispute=dispute, actor=request.user, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Statement saved."))
            return redirect(f"{reverse('disputes:detail', args=[dispute.pk])}#statement")
    context = _detail_context(request, dispute_id, statement_form=form)
    return render(request, "disputes/dispute_detail.html", context, status=400)


@login_required
@require_POST
def evidence_attach(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Attach product photos and/or the order's packing video from the dispute page."""
    dispute = selectors.access_dispute_by_id(request.user, dispute_id)
    form = EvidenceAttachForm(request.POST, request.FILES, merchant=dispute.merchant)
    if form.is_valid():
        video = form.cleaned_data.get("video")
        try:
            results = services.dispute_evidence_attach(
                dispute=dispute,
                actor=request.user,
                product=form.cleaned_data.get("product"),
                photos=[(f, f.name or "") for f in form.cleaned_data.get("photos") or []],
                video=(video, video.name or "") if video else None,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            for result in results:
                if result.status == "rejected":
                    messages.error(request, f"{result.name}: {result.message}")
                elif result.status == "duplicate":
                    messages.info(
                        request,
                        _("%(name)s is already in your evidence (same bytes).")
                        % {"name": result.name},
                    )
                else:
                    messages.success(
                        request,
                        _("%(name)s stored; the analysis will use it once processed.")
                        % {"name": result.name},
                    )
            return redirect(f"{reverse('disputes:detail', args=[dispute.pk])}#evidence")
    context = _detail_context(request, dispute_id, attach_form=form)
    return render(request, "disputes/dispute_detail.html", context, status=400)


@login_required
@require_POST
def claim_photos_add(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Attach more buyer photos."""
    dispute = selectors.access_dispute_by_id(request.user, dispute_id)
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
        if added:
            messages.success(
                request,
                ngettext(
                    "%(n)d photo added; analysis has started.",
                    "%(n)d photos added; analysis has started.",
                    len(added),
                )
                % {"n": len(added)},
            )
        repeated = len(files) - len(added)
        if repeated:
            messages.info(
                request,
                ngettext(
                    "%(n)d photo was already attached to this dispute, so it was not added again.",
                    "%(n)d photos were already attached to this dispute, so they were not "
                    "added again.",
                    repeated,
                )
                % {"n": repeated},
            )
    return redirect("disputes:detail", dispute_id=dispute.pk)


def _say_repeated_photos(request: HttpRequest, sent: int, dispute: Dispute) -> None:
    """Tell the user when the same photo was chosen more than once (it is kept once)."""
    repeated = sent - dispute.claim_images.count()
    if repeated > 0:
        messages.info(
            request,
            ngettext(
                "%(n)d photo was chosen twice; it is kept once.",
                "%(n)d photos were chosen more than once; each is kept once.",
                repeated,
            )
            % {"n": repeated},
        )


@login_required
@require_POST
def claim_image_retry(request: HttpRequest, claim_image_id: int) -> HttpResponse:
    """Run the analysis of one claim photo again."""
    image = selectors.access_claim_image_by_id(request.user, claim_image_id)
    services.claim_image_requeue(claim_image=image, actor=request.user)
    messages.info(request, _("The photo is being analysed again."))
    return redirect("disputes:detail", dispute_id=image.dispute_id)


@login_required
@require_GET
def claim_image_file(request: HttpRequest, claim_image_id: int) -> HttpResponseBase:
    """The buyer's photo, byte for byte."""
    image = selectors.access_claim_image_by_id(request.user, claim_image_id)
    return file_response(
        image.file.name,
        content_type=image.content_type,
        download_name=image.original_name,
        attachment=bool(request.GET.get("download")),
    )


#: Derived pictures of a claim photo: URL kind → (field, content type, extension).
DERIVED_KINDS = {
    "heatmap": ("heatmap", "image/png", "png"),
    "thumbnail": ("thumbnail", "image/jpeg", "jpg"),
    "aligned": ("aligned_original", "image/jpeg", "jpg"),
}


@login_required
@require_GET
def claim_image_derived(request: HttpRequest, claim_image_id: int, kind: str) -> HttpResponseBase:
    """A claim photo's thumbnail or difference heatmap."""
    if kind not in DERIVED_KINDS:
        raise Http404("Not found.")
    image = selectors.access_claim_image_by_id(request.user, claim_image_id)
    field_name, content_type, extension = DERIVED_KINDS[kind]
    return file_response(
        getattr(image, field_name).name,
        content_type=content_type,
        download_name=f"{kind}-{image.sha256[:12]}.{extension}",
        attachment=False,
    )
