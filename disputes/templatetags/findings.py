"""Findings in the reader's language.

Each finding's sentence is its kind's one template (``forensics.findings``) filled from
the finding's evidence and put into the active language through Django's gettext; the
engine stores the English rendering of the same template as ``Finding.message``, which
the CLI, the API and webhooks quote as is.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext, ngettext

from forensics.findings import FINDING_KINDS, TRANSFORM_WORDS, Translator, finding_sentence

register = template.Library()

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
def finding_text(finding: Any) -> str:
    """The finding's sentence in the active language (its stored English message for a
    code the registry does not know)."""
    if finding.code not in FINDING_KINDS:
        return str(finding.message)
    return finding_sentence(finding.code, finding.evidence or {}, translator=ACTIVE_LANGUAGE)
