"""The kinds of finding: what each is called, what it weighs, what it does to a claim's
level, and the one sentence it says.

Pure: no Django. Each kind is declared once, in ``FINDING_KINDS``; nothing else writes a
finding's weight or sentence. Sentences are English source texts marked with
``gettext_noop``/``ngettext_noop`` (``manage.py makemessages`` extracts both) and filled
from the finding's evidence by ``finding_sentence``: the engine and the CLI put them into
words with ``ENGLISH`` (the identity), the app with Django's gettext, so English and
Chinese come from the same template and the ``.po`` file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: A sentence template: one text, or a (singular, plural) pair whose form is chosen by
#: the ``count`` placeholder.
Text = str | tuple[str, str]


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation without translating it (``makemessages`` looks
    for this name)."""
    return message


def ngettext_noop(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair for translation without translating it
    (``disputes/management/commands/makemessages.py`` teaches xgettext this name)."""
    return (singular, plural)


class FindingCode(StrEnum):
    """What a finding says about a claim photo; the value is stored in ``Finding.code``."""

    DERIVED_FROM_ORIGINAL = "derived_from_original"
    NEAR_COPY = "near_copy"
    NO_MATCH = "no_match"
    REUSED_IMAGE = "reused_image"
    AI_PROVENANCE = "ai_provenance"
    EDITING_SOFTWARE = "editing_software"
    REPEAT_CLAIMANT = "repeat_claimant"


class LevelRule(StrEnum):
    """How a kind of finding counts towards a claim's level."""

    #: Evidence in the image itself: it counts in full, so one finding heavy enough
    #: (``scoring.HIGH_SCORE``) makes the claim "high" on its own.
    IMAGE = "image"
    #: Evidence about the buyer, not the image: it raises the score, but the claim is
    #: "high" only when its image findings are flagged without it (history is not proof).
    HISTORY = "history"


def _english_gettext(message: str) -> str:
    return message


def _english_ngettext(singular: str, plural: str, number: int) -> str:
    return singular if number == 1 else plural


@dataclass(frozen=True)
class Translator:
    """A gettext/ngettext pair that puts marked texts into one language."""

    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]

    def say(self, text: Text, facts: Mapping[str, Any]) -> str:
        """``text`` in this language, its placeholders filled from ``facts``."""
        if isinstance(text, tuple):
            singular, plural = text
            return self.ngettext(singular, plural, int(facts["count"])) % facts
        return self.gettext(text) % facts

    def listing(self, items: Sequence[str]) -> str:
        """Items as a list in running text: "a, b and c"."""
        if len(items) <= 1:
            return "".join(items)
        # Translators: separates items of a list in running text ("a, b and c").
        comma = self.gettext(gettext_noop(", "))
        # Translators: joins the last two items of a list in running text ("a, b and c").
        return comma.join(items[:-1]) + self.gettext(gettext_noop(" and ")) + items[-1]


#: The engine's language: the English source texts as they are.
ENGLISH = Translator(gettext=_english_gettext, ngettext=_english_ngettext)

Facts = Callable[[Mapping[str, Any], Translator], dict[str, Any]]


@dataclass(frozen=True)
class FindingKind:
    """One kind of finding, declared once."""

    code: FindingCode
    #: A short name (admin pages, ``Finding.code`` choices).
    title: str
    #: What a finding of this kind weighs in the claim's score (0..1): the strongest
    #: finding of the kind, where its evidence can be weaker (see ``min_weight``).
    weight: float
    level_rule: LevelRule
    #: The one sentence, its placeholders filled by ``facts`` from the evidence.
    sentence: Text
    facts: Facts
    #: What its weakest evidence weighs, when that is less than ``weight``.
    min_weight: float | None = None

    @property
    def weight_range(self) -> tuple[float, float]:
        """The lightest and the heaviest weight a finding of this kind carries."""
        return (self.weight if self.min_weight is None else self.min_weight, self.weight)


#: The names of the edits the engine recognises (``ClaimMatch.transforms``).
TRANSFORM_WORDS: dict[str, str] = {
    "resized": gettext_noop("resized"),
    "cropped": gettext_noop("cropped"),
    "rotated": gettext_noop("rotated"),
    "mirrored": gettext_noop("mirrored"),
    "border": gettext_noop("given a border"),
    "screenshot": gettext_noop("placed inside a screenshot"),
    "rephotographed": gettext_noop("re-photographed from a screen"),
    "colour_filtered": gettext_noop("colour-filtered"),
    "recompressed": gettext_noop("re-compressed"),
}

#: What kind of AI-generation label a provenance label code is.
AI_LABEL_WORDS: dict[str, str] = {
    "c2pa_ai": gettext_noop("a C2PA content credential"),
    "iptc_ai": gettext_noop("the IPTC DigitalSourceType field"),
    "tc260_aigc": gettext_noop("the GB 45438-2025 AIGC implicit label"),
    "sd_parameters": gettext_noop("Stable Diffusion generation parameters"),
    "comfyui_workflow": gettext_noop("a ComfyUI workflow"),
}
AI_LABEL_UNKNOWN = gettext_noop("an AI-generation label")

#: Provenance values are quoted up to this many characters.
QUOTE_MAX = 120


def _original(evidence: Mapping[str, Any], language: Translator) -> str:
    """The matched original as the sentence names it: a photo, or a packing-video frame."""
    label = evidence.get("original_label") or evidence.get("original", "")
    if evidence.get("original_kind") == "keyframe":
        # Translators: %(label)s is a packing video and time, e.g. "packing video A-1 @ 3.0s".
        return language.say(gettext_noop("a frame of your %(label)s"), {"label": label})
    # Translators: %(label)s is a product photo, e.g. "MUG-1 / mug-front.jpg".
    return language.say(gettext_noop("your photo %(label)s"), {"label": label})


def _transform_words(names: Sequence[str], language: Translator) -> list[str]:
    """The edits the engine has words for, in the translator's language."""
    return [language.gettext(TRANSFORM_WORDS[name]) for name in names if name in TRANSFORM_WORDS]


def _derived_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    words = _transform_words(evidence.get("transforms") or [], language)
    region = evidence.get("region")
    area = ""
    if region:
        x, y, w, h = region
        area = language.say(
            # Translators: follows "This is your photo …[, resized and cropped]".
            gettext_noop(", with the area at x=%(x)s, y=%(y)s (%(w)s×%(h)s pixels) changed"),
            {"x": x, "y": y, "w": w, "h": h},
        )
    return {
        "original": _original(evidence, language),
        # Translators: follows "This is your photo …"; %(edits)s lists the edits found.
        "edits": language.say(gettext_noop(", %(edits)s"), {"edits": language.listing(words)})
        if words
        else "",
        "area": area,
    }


def _near_copy_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    return {
        "original": _original(evidence, language),
        "score": float(evidence.get("same_photo_score", 0.0)),
        "threshold": float(evidence.get("threshold", 0.0)),
    }


def _no_match_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    nearest = evidence.get("nearest_original")
    if not nearest:
        return {"nearest": ""}
    return {
        "nearest": language.say(
            # Translators: follows "… nor an edited copy of one", before ". That is not a pass".
            gettext_noop(
                "; it shows what is in %(original)s, but it is a different photograph "
                "(same-photograph score %(score).2f)"
            ),
            {
                "original": evidence.get("nearest_label") or nearest,
                "score": float(evidence.get("same_photo_score", 0.0)),
            },
        )
    }


def _reused_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    yours = list(evidence.get("same_merchant") or [])
    others = int(evidence.get("other_merchants") or 0)
    places = []
    if yours:
        dates = [str(d.get("opened_at", ""))[:10] for d in yours[:5]]
        places.append(
            language.say(
                # Translators: %(dates)s lists when those disputes were opened.
                gettext_noop("%(count)d of your other disputes (%(dates)s)"),
                {"count": len(yours), "dates": language.gettext(gettext_noop(", ")).join(dates)},
            )
        )
    if others:
        places.append(
            language.say(
                ngettext_noop(
                    "%(count)d dispute at other merchants", "%(count)d disputes at other merchants"
                ),
                {"count": others},
            )
        )
    if not places:  # only the total is known
        count = int(evidence.get("count") or 0)
        places.append(
            language.say(
                ngettext_noop("%(count)d other dispute", "%(count)d other disputes"),
                {"count": count},
            )
        )
    return {"places": language.listing(places)}


def _ai_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    what = AI_LABEL_WORDS.get(str(evidence.get("label_code", "")), AI_LABEL_UNKNOWN)
    return {
        "label": language.gettext(what),
        "source": evidence.get("source", ""),
        "field": evidence.get("field", ""),
        "value": str(evidence.get("value", ""))[:QUOTE_MAX],
    }


def _editing_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    return {
        "source": evidence.get("source", ""),
        "field": evidence.get("field", ""),
        "value": str(evidence.get("value", ""))[:QUOTE_MAX],
    }


def _repeat_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    return {
        "count": int(evidence.get("disputes_all_merchants") or 0),
        "here": int(evidence.get("disputes_with_you") or 0),
        "high": int(evidence.get("flagged_high_risk") or 0),
        "rejected": int(evidence.get("rejected") or 0),
    }


_KINDS = (
    FindingKind(
        code=FindingCode.DERIVED_FROM_ORIGINAL,
        title=gettext_noop("edited copy of your original"),
        # At the same-photograph threshold, rising to this for a copy of the whole frame.
        min_weight=0.8,
        weight=0.97,
        level_rule=LevelRule.IMAGE,
        # Translators: e.g. "This is your photo MUG-1 / front.jpg, resized and cropped,
        # with the area at x=10, y=20 (100×80 pixels) changed."
        sentence=gettext_noop("This is %(original)s%(edits)s%(area)s."),
        facts=_derived_facts,
    ),
    FindingKind(
        code=FindingCode.NEAR_COPY,
        title=gettext_noop("possible copy of your original"),
        # Medium risk, never flagged alone: a person compares the two.
        weight=0.4,
        level_rule=LevelRule.IMAGE,
        sentence=gettext_noop(
            "Possibly %(original)s: it reproduces much of that picture's fine detail "
            "(same-photograph score %(score).2f; an edited copy scores at least "
            "%(threshold).2f), but not enough to call it an edited copy. "
            "Compare the two side by side."
        ),
        facts=_near_copy_facts,
    ),
    FindingKind(
        code=FindingCode.NO_MATCH,
        title=gettext_noop("no match with your evidence"),
        # Absent evidence is no reason either way.
        weight=0.0,
        level_rule=LevelRule.IMAGE,
        sentence=gettext_noop(
            "No match with your evidence: this photo is not one of your product photos or "
            "packing-video frames, nor an edited copy of one%(nearest)s. "
            "That is not a pass; look at it yourself."
        ),
        facts=_no_match_facts,
    ),
    FindingKind(
        code=FindingCode.REUSED_IMAGE,
        title=gettext_noop("picture already used in other disputes"),
        # A refund claim photo should be unique to one order.
        weight=0.6,
        level_rule=LevelRule.IMAGE,
        # Translators: %(places)s is e.g. "2 of your other disputes (2025-01-02, 2025-02-03)
        # and 1 dispute at other merchants".
        sentence=gettext_noop(
            "The same picture (or a near copy) was already submitted in %(places)s."
        ),
        facts=_reused_facts,
    ),
    FindingKind(
        code=FindingCode.AI_PROVENANCE,
        title=gettext_noop("AI-generation label"),
        # A label written by the generating tool is close to proof on its own; a GB 45438
        # label 2/3 only says "possibly"/"suspected".
        weight=0.9,
        min_weight=0.6,
        level_rule=LevelRule.IMAGE,
        sentence=gettext_noop(
            "The file carries %(label)s saying it was made or altered by AI "
            "(%(source)s, %(field)s = %(value)s)."
        ),
        facts=_ai_facts,
    ),
    FindingKind(
        code=FindingCode.EDITING_SOFTWARE,
        title=gettext_noop("saved by editing software"),
        # It shows the file was edited, not how: a supporting fact.
        weight=0.25,
        level_rule=LevelRule.IMAGE,
        sentence=gettext_noop(
            "The file was saved by editing software: %(field)s = “%(value)s” (%(source)s)."
        ),
        facts=_editing_facts,
    ),
    FindingKind(
        code=FindingCode.REPEAT_CLAIMANT,
        title=gettext_noop("repeat claimant"),
        weight=0.35,
        level_rule=LevelRule.HISTORY,
        sentence=ngettext_noop(
            "This buyer has %(count)d other dispute on record across all merchants "
            "(%(here)d with you): %(high)d flagged high risk, %(rejected)d rejected.",
            "This buyer has %(count)d other disputes on record across all merchants "
            "(%(here)d with you): %(high)d flagged high risk, %(rejected)d rejected.",
        ),
        facts=_repeat_facts,
    ),
)

#: Every kind of finding, by code.
FINDING_KINDS: dict[FindingCode, FindingKind] = {kind.code: kind for kind in _KINDS}


def finding_kind(code: str) -> FindingKind:
    """The declaration of kind ``code`` (``ValueError`` for a code that is not one)."""
    return FINDING_KINDS[FindingCode(code)]


def finding_sentence(
    code: str, evidence: Mapping[str, Any], *, translator: Translator = ENGLISH
) -> str:
    """The sentence of a finding of kind ``code``, built from its evidence in the
    translator's language (English by default)."""
    kind = finding_kind(code)
    return translator.say(kind.sentence, kind.facts(evidence, translator))
