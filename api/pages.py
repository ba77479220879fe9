"""Settings → Integrations: API tokens, webhook endpoints and the delivery log (owners)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api import selectors, services
from api.forms import TokenForm, WebhookForm
from core.access import is_owner
from core.http import request_merchant
from core.models import Merchant


def _owner_merchant(request: HttpRequest) -> Merchant:
    merchant = request_merchant(request)
    if not is_owner(request.user, merchant):
        raise PermissionDenied(_("Only the merchant's owner manages integrations."))
    return merchant


def _page(request: HttpRequest, merchant: Merchant, **extra: Any) -> dict[str, Any]:
    return {
        "tokens": selectors.token_list(user=request.user, merchant=merchant),
        "endpoints": selectors.webhook_list(user=request.user, merchant=merchant),
        "deliveries": selectors.delivery_log(user=request.user, merchant=merchant)[:50],
        "token_form": extra.pop("token_form", TokenForm()),
        "webhook_form": extra.pop("webhook_form", WebhookForm()),
        "nav": "integrations",
        **extra,
    }


@login_required
@require_http_methods(["GET"])
def integrations(request: HttpRequest) -> HttpResponse:
    """Tokens, webhooks and the delivery log."""
    merchant = _owner_merchant(request)
    return render(request, "api/integrations.html", _page(request, merchant))


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Issue a token and show its secret this once."""
    merchant = _owner_merchant(request)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            issued = services.token_create(
                merchant=merchant, actor=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form.add_error("name", exc.messages)
        else:
            context = _page(request, merchant, new_token=issued)
            response = render(request, "api/integrations.html", context, status=201)
            response["Cache-Control"] = "no-store"  # the secret must not be cached
            return response
    return render(
        request, "api/integrations.html", _page(request, merchant, token_form=form), status=400
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke a token."""
    merchant = _owner_merchant(request)
    token = selectors.access_token_by_id(request.user, token_id, merchant=merchant)
    services.token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("integrations:home")


@login_required
@require_POST
def webhook_create(request: HttpRequest) -> HttpResponse:
    """Register an endpoint and show its signing secret."""
    merchant = _owner_merchant(request)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            endpoint = services.webhook_endpoint_create(
                merchant=merchant, actor=request.user, url=form.cleaned_data["url"]
            )
        except ValidationError as exc:
            form.add_error("url", exc.messages)
        else:
            context = _page(request, merchant, new_endpoint=endpoint)
            response = render(request, "api/integrations.html", context, status=201)
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request, "api/integrations.html", _page(request, merchant, webhook_form=form), status=400
    )


@login_required
@require_POST
def webhook_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """Remove an endpoint."""
    merchant = _owner_merchant(request)
    endpoint = selectors.access_webhook_by_id(request.user, endpoint_id, merchant=merchant)
    services.webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, _("Webhook endpoint removed."))
    return redirect("integrations:home")
