"""Audit-trail events in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

register = template.Library()


def _labels() -> dict[str, str]:
    # Built per call so each string is translated into the active language.
    return {
        "dispute.opened": gettext("Dispute opened"),
        "claim_images.added": gettext("Buyer photos added"),
        "claim_image.analysed": gettext("Photo analysed"),
        "claim_image.failed": gettext("Photo analysis failed"),
        "claim_image.requeued": gettext("Photo sent for analysis again"),
        "dispute.decided": gettext("Decision recorded"),
        "note.added": gettext("Internal note added"),
        "statement.saved": gettext("Merchant statement saved"),
        "evidence.attached": gettext("Evidence attached"),
        "disputes.reanalyse": gettext("Analysis re-run after new evidence"),
        "pack.requested": gettext("Evidence pack requested"),
        "pack.exported": gettext("Evidence pack exported"),
    }


@register.filter
def audit_label(action: str) -> str:
    """A readable name for an audit action (the code itself if unknown)."""
    return _labels().get(action, action)


@register.filter
def audit_detail(event: Any) -> str:
    """One short line of what the event changed, when there is something to say."""
    data: dict[str, Any] = event.data or {}
    if event.action == "dispute.decided":
        from disputes.models import Dispute

        try:
            return str(Dispute.Status(str(data.get("to"))).label)
        except ValueError:
            return ""
    if event.action == "claim_image.analysed" and data.get("score") is not None:
        return gettext("score %(score).2f") % {"score": float(data["score"])}
    if event.action == "pack.exported" and data.get("zip_sha256"):
        return gettext("ZIP SHA-256 %(sha)s") % {"sha": data["zip_sha256"]}
    if event.action == "claim_image.failed":
        return str(data.get("reason") or "")
    return ""
