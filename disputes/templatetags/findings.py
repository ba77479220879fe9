"""Findings in the reader's language.

The engine writes each finding's message in English (the CLI, the API and exports
quote it as is); pages in another language rebuild the sentence from the finding's
code and evidence, which hold every fact the English sentence states.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language, gettext, ngettext

register = template.Library()


def transform_label(name: str) -> str:
    """The reader-language name of one edit the engine found."""
    labels = {
        "resized": gettext("resized"),
        "cropped": gettext("cropped"),
        "rotated": gettext("rotated"),
        "mirrored": gettext("mirrored"),
        "border": gettext("given a border"),
        "screenshot": gettext("placed inside a screenshot"),
        "rephotographed": gettext("re-photographed from a screen"),
        "colour_filtered": gettext("colour-filtered"),
        "recompressed": gettext("re-compressed"),
    }
    return labels.get(name, name)


@register.filter
def transforms_text(names: list[str] | None) -> str:
    """Edits found, in the reader's language."""
    return gettext(", ").join(transform_label(n) for n in names or [])


@register.filter
def finding_text(finding: Any) -> str:
    """The finding's sentence in the active language."""
    if (get_language() or "en").startswith("en"):
        return str(finding.message)
    evidence: dict[str, Any] = finding.evidence or {}
    code = finding.code
    if code == "derived_from_original":
        original = evidence.get("original_label") or evidence.get("original", "")
        if evidence.get("original_kind") == "keyframe":
            text = gettext("This is a frame of your %(original)s") % {"original": original}
        else:
            text = gettext("This is your photo %(original)s") % {"original": original}
        if evidence.get("transforms"):
            text += gettext(", edited: %(edits)s") % {
                "edits": transforms_text(evidence["transforms"])
            }
        region = evidence.get("region")
        if region:
            x, y, w, h = region
            text += gettext("; the area at x=%(x)s, y=%(y)s (%(w)s×%(h)s pixels) was changed") % {
                "x": x, "y": y, "w": w, "h": h,
            }  # fmt: skip
        return text + gettext(".")
    if code == "near_copy":
        return gettext(
            "Possibly your photo %(original)s: it reproduces much of that photo's fine detail "
            "(same-photograph score %(score).2f; an edited copy scores at least "
            "%(threshold).2f), but not enough to call it an edited copy. Compare the two "
            "side by side."
        ) % {
            "original": evidence.get("original_label") or evidence.get("original", ""),
            "score": float(evidence.get("same_photo_score", 0.0)),
            "threshold": float(evidence.get("threshold", 0.0)),
        }
    if code == "no_match":
        if evidence.get("nearest_original"):
            return gettext(
                "No match with your evidence: it shows what is in %(original)s, but it is a "
                "different photograph, not an edited copy (same-photograph score %(score).2f)."
            ) % {
                "original": evidence.get("nearest_label") or evidence["nearest_original"],
                "score": float(evidence.get("same_photo_score", 0.0)),
            }
        return gettext(
            "No match with your evidence: this photo matches none of your product photos or "
            "packing-video frames. That is not a pass; look at it yourself."
        )
    if code == "reused_image":
        count = int(evidence.get("count", 0))
        return ngettext(
            "The same picture (or a near copy) was already submitted in %(n)d other dispute.",
            "The same picture (or a near copy) was already submitted in %(n)d other disputes.",
            count,
        ) % {"n": count}
    if code == "ai_provenance":
        return gettext(
            "The file carries a label saying it was made or altered by AI (%(source)s, "
            "%(field)s = %(value)s)."
        ) % {
            "source": evidence.get("source", ""),
            "field": evidence.get("field", ""),
            "value": str(evidence.get("value", ""))[:120],
        }
    if code == "editing_software":
        return gettext("The file was saved by editing software: %(field)s = “%(value)s”.") % {
            "field": evidence.get("field", ""),
            "value": str(evidence.get("value", ""))[:120],
        }
    if code == "repeat_claimant":
        return gettext(
            "This buyer has %(all)s other dispute(s) on record across all merchants "
            "(%(here)s with you): %(high)s flagged high risk, %(rejected)s rejected."
        ) % {
            "all": evidence.get("disputes_all_merchants", 0),
            "here": evidence.get("disputes_with_you", 0),
            "high": evidence.get("flagged_high_risk", 0),
            "rejected": evidence.get("rejected", 0),
        }
    return str(finding.message)
