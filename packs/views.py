"""Evidence-pack pages: ask for a pack, watch it being built, download the PDF or ZIP."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.access import is_member
from core.http import file_response
from disputes import selectors as dispute_selectors
from packs import selectors, services
from packs.models import EvidencePack


@login_required
@require_POST
def pack_request(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Start building an evidence pack of the dispute; the page shows its progress."""
    dispute = dispute_selectors.access_dispute_by_id(request.user, dispute_id)
    # The service refuses anyone but the merchant's own people (PermissionDenied → 403).
    services.evidence_pack_request(dispute=dispute, actor=request.user)
    messages.success(request, _("The evidence pack is being built; it appears below when ready."))
    return redirect(f"{reverse('disputes:detail', args=[dispute.pk])}#packs")


@login_required
@require_GET
def pack_status(request: HttpRequest, pack_id: int) -> HttpResponse:
    """The dispute's pack panel (polled by the page while a pack is being built)."""
    pack = selectors.access_pack_by_id(request.user, pack_id)
    packs = selectors.dispute_packs(user=request.user, dispute_id=pack.dispute_id)
    context = {
        "dispute": pack.dispute,
        "packs": packs,
        "can_export": is_member(request.user, pack.dispute.merchant_id),
    }
    return render(request, "packs/_packs.html", context)


@login_required
@require_GET
def pack_download(request: HttpRequest, pack_id: int, kind: str) -> HttpResponseBase:
    """The finished PDF report or ZIP archive, as a download."""
    pack = selectors.access_pack_by_id(request.user, pack_id)
    if kind not in {"pdf", "zip"} or pack.status != EvidencePack.Status.READY:
        raise Http404("No such file.")
    field = pack.pdf if kind == "pdf" else pack.archive
    stem = f"evidence-pack-{pack.dispute.external_id}-{pack.pk}"
    return file_response(
        field.name,
        content_type="application/pdf" if kind == "pdf" else "application/zip",
        download_name=f"{stem}.{kind}",
        attachment=True,
    )
