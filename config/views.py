"""The landing page: where each kind of user starts their day."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from core.access import is_reviewer
from core.selectors import merchants_for_user


@login_required
def start(request: HttpRequest) -> HttpResponse:
    """Support reviewers land on their queue; merchants on their evidence library."""
    if is_reviewer(request.user) and not merchants_for_user(user=request.user).exists():
        return redirect("disputes:queue")
    return redirect("evidence:home")
