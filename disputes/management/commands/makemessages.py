"""``makemessages`` that also extracts the engine's plural texts.

``forensics.findings`` cannot import Django, so it marks texts with local no-op markers:
xgettext already knows ``gettext_noop``; this teaches it ``ngettext_noop`` (singular,
plural), so a finding's plural sentence reaches the ``.po`` file with both forms.
"""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=ngettext_noop:1,2"]
