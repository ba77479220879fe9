"""Findings in the reader's language.

Each finding's sentence is its kind's one template (``forensics.findings``) filled from
the finding's evidence and put into the active language through Django's gettext; the
engine stores the English rendering of the same template as ``Finding.message`` (the
merchant's voice), which the CLI, the API and webhooks quote as is.

Pages and the evidence pack say who reads: a member of the merchant reads "your photo",
anyone else (a support reviewer, a platform's arbitrator, the police) "the merchant's
photo". They render from the code and the evidence, never from the stored message.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext, ngettext

from forensics.findings import (
    FINDING_KINDS,
    TRANSFORM_WORDS,
    Audience,
    Translator,
    finding_sentence,
    score_text,
)

register = template.Library()


def reader_audience(*, member: bool) -> Audience:
    """How findings speak to a reader: to the merchant when they are one of its members,
    about the merchant otherwise."""
    return Audience.MERCHANT if member else Audience.THIRD_PARTY


def _audience(value: Any) -> Audience:
    """The audience a template names; anything else (a forgotten argument) reads as a third
    party, so a reviewer is never told "your photo" by mistake."""
    try:
        return Audience(value)
    except ValueError:
        return Audience.THIRD_PARTY


#: The active language, as the registry's sentences need it.
ACTIVE_LANGUAGE = Translator(gettext=gettext, ngettext=ngettext)


@register.filter
def transforms_text(names: list[str] | None) -> str:
    """Edits found, in the reader's language ("resized, cropped and rotated")."""
    return ACTIVE_LANGUAGE.listing(
        [
            gettext(TRANSFORM_WORDS[name]) if name in TRANSFORM_WORDS else name
            for name in names or []
        ]
    )


@register.filter
def finding_text(finding: Any, audience: Any = Audience.THIRD_PARTY) -> str:
    """The finding's sentence in the active language, worded for ``audience``
    (``Audience`` value; the third party unless told). For a code the registry does not
    know: its stored English message to the merchant, a plain note to anyone else (the
    message speaks to the merchant)."""
    reader = _audience(audience)
    if finding.code not in FINDING_KINDS:
        if reader is Audience.MERCHANT:
            return str(finding.message)
        return gettext("A finding of a kind this version no longer describes (%(code)s).") % {
            "code": finding.code
        }
    return finding_sentence(
        finding.code, finding.evidence or {}, translator=ACTIVE_LANGUAGE, audience=reader
    )


@register.filter
def score(value: Any) -> str:
    """A score as the findings print it: cut to three decimals, never rounded up to a bar
    it is below (0.7499 → "0.749", not "0.75")."""
    if value is None or value == "":
        return ""
    try:
        return score_text(float(value))
    except (TypeError, ValueError):
        return str(value)
