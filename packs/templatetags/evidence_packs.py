"""The evidence-pack panel of the dispute page. A template tag, so the disputes app
shows the packs without importing this app (packs depend on disputes, not back)."""

from __future__ import annotations

from typing import Any

from django import template

from core.access import is_member
from packs.selectors import dispute_packs

register = template.Library()


@register.inclusion_tag("packs/_packs.html", takes_context=True)
def dispute_packs_panel(context: template.Context, dispute: Any) -> dict[str, Any]:
    """The dispute's latest packs and, for the merchant's own people, the export button."""
    user = context["request"].user
    return {
        "dispute": dispute,
        "packs": dispute_packs(user=user, dispute_id=dispute.pk),
        "can_export": is_member(user, dispute.merchant_id),
    }
