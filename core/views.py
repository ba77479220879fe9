"""Settings → Time zone: the zone a merchant's owner chooses for the shop (deadlines are
typed and shown in it) and the one a support reviewer reads deadlines in beside it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core import services
from core.access import is_owner, reviewer_for
from core.forms import TimeZoneForm
from core.http import session_merchant


@login_required
@require_http_methods(["GET", "POST"])
def time_zone_settings(request: HttpRequest) -> HttpResponse:
    """The shop's zone (its owner sets it; its agents read it) and a reviewer's own."""
    merchant = session_merchant(request)
    reviewer = reviewer_for(request.user)
    if merchant is None and reviewer is None:
        raise Http404(_("Your account is not linked to a merchant yet."))
    owner = merchant is not None and is_owner(request.user, merchant)
    which = request.POST.get("which", "")
    shop_form = TimeZoneForm(
        request.POST if which == "merchant" else None,
        prefix="merchant",
        initial={"time_zone": merchant.time_zone if merchant is not None else ""},
    )
    own_form = TimeZoneForm(
        request.POST if which == "reviewer" else None,
        prefix="reviewer",
        initial={"time_zone": reviewer.time_zone if reviewer is not None else ""},
    )
    status = 200
    if request.method == "POST":
        if which == "merchant" and merchant is not None:
            form = shop_form
        elif which == "reviewer" and reviewer is not None:
            form = own_form
        else:
            raise Http404(_("Nothing to set here."))
        if form.is_valid():
            chosen = form.cleaned_data["time_zone"]
            try:
                if form is shop_form:
                    assert merchant is not None
                    services.merchant_time_zone_set(
                        merchant=merchant, actor=request.user, time_zone=chosen
                    )
                    done = _("The shop's time zone is now %(zone)s.")
                else:
                    assert reviewer is not None
                    services.reviewer_time_zone_set(
                        reviewer=reviewer, actor=request.user, time_zone=chosen
                    )
                    done = _("Your time zone is now %(zone)s.")
            except ValidationError as exc:
                form.add_error("time_zone", exc.messages)
            else:
                messages.success(request, done % {"zone": chosen})
                return redirect("core:time_zone")
        status = 400
    context: dict[str, Any] = {
        "merchant": merchant,
        "owner": owner,
        "reviewer": reviewer,
        "shop_form": shop_form,
        "own_form": own_form,
        "nav": "settings",
    }
    return render(request, "core/time_zone.html", context, status=status)
