"""The kinds of finding: what each is called, what it weighs, what it does to a claim's
level, and the one sentence it says.

Pure: no Django. Each kind is declared once, in ``FINDING_KINDS``; nothing else writes a
finding's weight or sentence. Sentences are English source texts marked with
``gettext_noop``/``ngettext_noop`` (``manage.py makemessages`` extracts both) and filled
from the finding's evidence by ``finding_sentence``: the engine and the CLI put them into
words with ``ENGLISH`` (the identity), the app with Django's gettext, so English and
Chinese come from the same template and the ``.po`` file.

Each sentence exists in two voices (``Audience``): to the merchant ("your photo"), and
about the merchant to anyone else — a support reviewer, a platform's arbitrator, the
police ("the merchant's photo"). The caller chooses; a kind whose merchant sentence says
"you" must declare its third-party sentence (``FindingKind`` refuses it otherwise).

Scores printed beside the bar they are compared with are cut, never rounded up
(``score_text``), and the bar is printed as written (``bar_text``): 0.9449 against 0.945
reads "0.944; at least 0.945".
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
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
    CREDENTIALS_INVALID = "credentials_invalid"


class Audience(StrEnum):
    """Who reads a finding's sentence; it decides how the merchant's originals are named."""

    #: The merchant: their pages, the API (a token acts for its merchant), the CLI.
    MERCHANT = "merchant"
    #: Anyone reading about the merchant: support reviewers, a platform's arbitrator or
    #: the police (the evidence pack).
    THIRD_PARTY = "third_party"


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
    """A gettext/ngettext pair that puts marked texts into one language, in the voice of
    one audience (``finding_sentence`` sets it)."""

    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]
    audience: Audience = Audience.MERCHANT

    def to(self, audience: Audience) -> Translator:
        """The same language, speaking to ``audience``."""
        return dataclasses.replace(self, audience=Audience(audience))

    def voice(self, merchant: Text, third_party: Text) -> Text:
        """The text for this audience: ``merchant`` speaks to the merchant ("your photo"),
        ``third_party`` about them ("the merchant's photo")."""
        return third_party if self.audience is Audience.THIRD_PARTY else merchant

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
    #: The one sentence, its placeholders filled by ``facts`` from the evidence; as the
    #: merchant reads it, and as anyone reads it unless ``third_party_sentence`` is given.
    sentence: Text
    facts: Facts
    #: What its weakest evidence weighs, when that is less than ``weight``.
    min_weight: float | None = None
    #: The sentence about the merchant for anyone else (``Audience.THIRD_PARTY``); needed
    #: when ``sentence`` speaks to the merchant ("your …", "with you").
    third_party_sentence: Text | None = None

    def __post_init__(self) -> None:
        # A "your photo" must never reach an arbitrator for want of a second sentence.
        if self.third_party_sentence is None and speaks_to_reader(self.sentence):
            raise ValueError(
                f"finding kind {self.code}: its sentence says “you”; "
                "declare third_party_sentence for reviewers and the evidence pack"
            )

    @property
    def weight_range(self) -> tuple[float, float]:
        """The lightest and the heaviest weight a finding of this kind carries."""
        return (self.weight if self.min_weight is None else self.min_weight, self.weight)

    def sentence_for(self, audience: Audience) -> Text:
        """The sentence template ``audience`` reads."""
        if Audience(audience) is Audience.THIRD_PARTY and self.third_party_sentence is not None:
            return self.third_party_sentence
        return self.sentence


#: "you", "your", "yours", "yourself": English that speaks to the reader.
_SECOND_PERSON = re.compile(r"\byou", re.IGNORECASE)


def speaks_to_reader(text: Text) -> bool:
    """Whether an English text addresses its reader ("your photo", "with you")."""
    return any(_SECOND_PERSON.search(t) for t in ((text,) if isinstance(text, str) else text))


#: Decimals a score is printed with (cut, never rounded up: see ``score_text``).
SCORE_PLACES = 3


def _exact(value: float) -> Decimal:
    """A float as the shortest decimal that reads back as it (0.945, not 0.94499…)."""
    return Decimal(repr(float(value)))


def score_text(score: float) -> str:
    """A score cut to ``SCORE_PLACES`` decimals: a score below a bar (written with at most
    that many decimals) is never printed at or above it (0.9449 → "0.944", 0.9999 →
    "0.999")."""
    if not math.isfinite(score):
        return str(score)
    return str(_exact(score).quantize(Decimal(1).scaleb(-SCORE_PLACES), rounding=ROUND_FLOOR))


def bar_text(bar: float) -> str:
    """A threshold printed exactly as written, with at least two decimals (0.945, 0.91,
    1.00)."""
    if not math.isfinite(bar):
        return str(bar)
    exponent = _exact(bar).normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{_exact(bar):.{places}f}"


#: The names of the edits the engine recognises (``ClaimMatch.transforms``).
TRANSFORM_WORDS: dict[str, str] = {
    "resized": gettext_noop("resized"),
    "cropped": gettext_noop("cropped"),
    "rotated": gettext_noop("rotated"),
    "mirrored": gettext_noop("mirrored"),
    "border": gettext_noop("given a border"),
    "screenshot": gettext_noop("placed inside a screenshot"),
    "collage": gettext_noop("placed in a collage with other pictures"),
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
    # Translators: %(application)s is an AI image generator, e.g. "InvokeAI".
    "generator_metadata": gettext_noop("the generation metadata of %(application)s"),
    # Translators: %(application)s is an AI image generator, e.g. "NovelAI".
    "stealth_pnginfo": gettext_noop(
        "generation metadata of %(application)s hidden in its pixels (stealth PNG info)"
    ),
    # Translators: %(application)s is an AI image generator named in a software field.
    "editing_software": gettext_noop("the name of the AI image generator %(application)s"),
}
AI_LABEL_UNKNOWN = gettext_noop("an AI-generation label")


def _label_words(what: str, details: Mapping[str, Any], language: Translator) -> str:
    """What kind of AI label it is, naming its generator where the words do."""
    application = details.get("application") if isinstance(details, Mapping) else None
    if "%(application)s" in what and not (isinstance(application, str) and application):
        what = AI_LABEL_UNKNOWN  # a label stored without its generator's name
    return language.say(what, {"application": application})


#: Provenance values are quoted up to this many characters.
QUOTE_MAX = 120


def _original(evidence: Mapping[str, Any], language: Translator) -> str:
    """The matched original as the sentence names it: a photo, or a packing-video frame."""
    label = evidence.get("original_label") or evidence.get("original", "")
    if evidence.get("original_kind") == "keyframe":
        frame = language.voice(
            # Translators: %(label)s is a packing video and time, e.g. "packing video A-1 @ 3.0s".
            gettext_noop("a frame of your %(label)s"),
            # Translators: read by a reviewer or an arbitrator; %(label)s is a packing video
            # and time, e.g. "packing video A-1 @ 3.0s".
            gettext_noop("a frame of the merchant's %(label)s"),
        )
        return language.say(frame, {"label": label})
    photo = language.voice(
        # Translators: %(label)s is a product photo, e.g. "MUG-1 / mug-front.jpg".
        gettext_noop("your photo %(label)s"),
        # Translators: read by a reviewer or an arbitrator; %(label)s is a product photo.
        gettext_noop("the merchant's photo %(label)s"),
    )
    return language.say(photo, {"label": label})


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


def _count(value: Any) -> int | None:
    """A stored count (inliers, hash bits), or None when it was not recorded."""
    return None if value is None or isinstance(value, bool) else int(value)


def _features_said(inliers: int, language: Translator) -> str:
    """The fit's inliers, in words."""
    return language.say(
        # Translators: "its" is the claim photo's; "that picture" is the original named before.
        gettext_noop("%(inliers)d of its features line up with that picture's"),
        {"inliers": inliers},
    )


def _hash_said(bits: int | None, registered: bool, language: Translator) -> str:
    """A pHash distance in words, registered (the claim laid over the original) or plain
    ("" when none is given)."""
    if bits is None:
        return ""
    if registered:
        return language.say(
            # Translators: a perceptual hash is 64 bits; "laid over it": the claim photo
            # registered onto the original.
            gettext_noop(
                "its perceptual hash differs from that picture's in %(bits)d of 64 bits "
                "once laid over it"
            ),
            {"bits": bits},
        )
    return language.say(
        # Translators: a perceptual hash is 64 bits.
        gettext_noop("its perceptual hash differs from that picture's in %(bits)d of 64 bits"),
        {"bits": bits},
    )


def _both(first: str, second: str, language: Translator) -> str:
    """Two facts about the claim photo in one clause (either may be empty)."""
    if not (first and second):
        return first or second
    # Translators: joins two facts about the claim photo, e.g. "112 of its features line up
    # with that picture's and its perceptual hash differs … in 2 of 64 bits once laid over it".
    return language.say(
        gettext_noop("%(first)s and %(second)s"), {"first": first, "second": second}
    )


def _near_copy_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    figures = {
        "score": score_text(float(evidence.get("same_photo_score", 0.0))),
        "threshold": bar_text(float(evidence.get("threshold", 0.0))),
    }
    inliers = _count(evidence.get("inliers")) or 0
    plain = _count(evidence.get("hash_distance"))
    features = _features_said(inliers, language) if inliers else ""
    if evidence.get("basis") == "structure":
        # Kept the original's structure, not its fine detail: the inliers and the registered
        # hash distance that showed it (if it did), then the score.
        copy_hash = _hash_said(_count(evidence.get("copy_hash")), True, language)
        said = language.say(
            # Translators: %(structure)s is e.g. "112 of its features line up with that
            # picture's and its perceptual hash differs … in 2 of 64 bits once laid over it".
            gettext_noop(
                "%(structure)s, though less of its fine detail matches (same-photograph "
                "score %(score)s; an edited copy scores at least %(threshold)s)"
            ),
            {
                **figures,
                "structure": _both(features, copy_hash, language),
            },
        )
    else:  # the fine detail (and every near copy stored before the basis was recorded)
        detail = language.say(
            gettext_noop(
                "it reproduces much of that picture's fine detail (same-photograph score "
                "%(score)s; an edited copy scores at least %(threshold)s)"
            ),
            figures,
        )
        # How it lines up: the fit's inliers, or for a pHash candidate (no fit) its hash.
        said = _both(detail, features or _hash_said(plain, False, language), language)
    return {"original": _original(evidence, language), "evidence": said}


def _no_match_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    nearest = evidence.get("nearest_original")
    # The original it resembles is named only when the match was geometrically verified
    # (recorded since issue 21): a chance fit of a few features of an unrelated photo, or
    # a finding stored before it was recorded, names nothing.
    if not nearest or evidence.get("verified") is not True:
        return {"nearest": ""}
    return {
        "nearest": language.say(
            # Translators: follows "… nor an edited copy of one", before ". That is not a pass".
            gettext_noop(
                "; it shows what is in %(original)s (%(inliers)d of its features line up "
                "with that picture's), but not its fine detail (same-photograph score "
                "%(score)s), so it is most likely a different photograph"
            ),
            {
                "original": evidence.get("nearest_label") or nearest,
                "inliers": _count(evidence.get("inliers")) or 0,
                "score": score_text(float(evidence.get("same_photo_score", 0.0))),
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
                language.voice(
                    # Translators: %(dates)s lists when those disputes were opened.
                    gettext_noop("%(count)d of your other disputes (%(dates)s)"),
                    # Translators: read by a reviewer or an arbitrator; %(dates)s lists
                    # when those disputes were opened.
                    gettext_noop("%(count)d of the merchant's other disputes (%(dates)s)"),
                ),
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
    details = evidence.get("details") or {}
    c2pa = evidence.get("label_code") == "c2pa_ai"
    return {
        "label": _label_words(what, details, language),
        "claim": _ai_claim(details, language) if c2pa else language.gettext(AI_MADE),
        "source": evidence.get("source", ""),
        "field": evidence.get("field", ""),
        "value": str(evidence.get("value", ""))[:QUOTE_MAX],
        "credential": _c2pa_statement_caveats(details, language) if c2pa else "",
    }


#: Editors the editing sentence names, at most.
EDITORS_MAX = 10


def _editing_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    editors = evidence.get("editors")
    if not isinstance(editors, list) or not editors:
        editors = [evidence]  # stored when one editor was kept: its fields are top-level
    said = []
    for editor in editors[:EDITORS_MAX]:
        if not isinstance(editor, Mapping):
            continue
        facts = {
            "application": editor.get("application") or "",
            "source": editor.get("source", ""),
            "field": editor.get("field", ""),
            "value": str(editor.get("value", ""))[:QUOTE_MAX],
        }
        if facts["application"]:
            # Translators: one editor in "The file was saved by editing software: …", e.g.
            # "GIMP (EXIF Software, Software = “GIMP 2.10.36”)".
            text = gettext_noop("%(application)s (%(source)s, %(field)s = “%(value)s”)")
        else:
            # Translators: one editor whose application was not recorded, e.g.
            # "Software = “GIMP 2.10.36” (EXIF Software)".
            text = gettext_noop("%(field)s = “%(value)s” (%(source)s)")
        said.append(language.say(text, facts))
    return {"editors": language.listing(said)}


def _repeat_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    return {
        "count": int(evidence.get("disputes_all_merchants") or 0),
        "here": int(evidence.get("disputes_with_you") or 0),
        "high": int(evidence.get("flagged_high_risk") or 0),
        "rejected": int(evidence.get("rejected") or 0),
    }


# --------------------------------------------------------------- C2PA content credentials
#: What an AI label says when it is no C2PA ingredient's.
AI_MADE = gettext_noop("it was made or altered by AI")
_FAILED_PIXELS = gettext_noop("the image was changed after it was signed")
_FAILED_STATEMENT = gettext_noop("a statement in it was changed after it was signed")
_FAILED_SIGNATURE = gettext_noop("its signature does not match what it says")
_FAILED_UNSIGNED = gettext_noop("it is not signed")
_FAILED_CERTIFICATE = gettext_noop("its signing certificate is not valid")
_FAILED_REVOKED = gettext_noop("its signing certificate was revoked")
_FAILED_EXPIRED = gettext_noop("it was signed outside its certificate's validity")
_FAILED_TIMESTAMP = gettext_noop("its timestamp does not match")
_FAILED_INGREDIENT_MISSING = gettext_noop("the credential of an ingredient it names is missing")
_FAILED_INGREDIENT = gettext_noop("an ingredient does not match the credential it names")
_FAILED_MALFORMED = gettext_noop("it is malformed and cannot be read in full")

#: C2PA validation failure codes in words (a code not listed here is quoted as it is).
CREDENTIAL_FAILURE_WORDS: dict[str, str] = {
    "assertion.dataHash.mismatch": _FAILED_PIXELS,
    "assertion.boxesHash.mismatch": _FAILED_PIXELS,
    "assertion.bmffHash.mismatch": _FAILED_PIXELS,
    "assertion.collectionHash.mismatch": _FAILED_PIXELS,
    "assertion.hashedURI.mismatch": _FAILED_STATEMENT,
    "claimSignature.mismatch": _FAILED_SIGNATURE,
    "claimSignature.missing": _FAILED_UNSIGNED,
    "claimSignature.outsideValidity": _FAILED_EXPIRED,
    "signingCredential.expired": _FAILED_EXPIRED,
    "signingCredential.invalid": _FAILED_CERTIFICATE,
    "signingCredential.revoked": _FAILED_REVOKED,
    "timeStamp.mismatch": _FAILED_TIMESTAMP,
    "timeStamp.outsideValidity": _FAILED_TIMESTAMP,
    "ingredient.manifest.missing": _FAILED_INGREDIENT_MISSING,
    "ingredient.manifest.mismatch": _FAILED_INGREDIENT,
    "ingredient.claimSignature.mismatch": _FAILED_INGREDIENT,
    "ingredient.hashedURI.mismatch": _FAILED_INGREDIENT,
    **dict.fromkeys(
        (
            "assertion.required.missing",
            "assertion.missing",
            "assertion.hashedURI.missing",
            "assertion.inaccessible",
            "assertion.undeclared",
            "assertion.multipleHardBindings",
            "assertion.cbor.invalid",
            "assertion.json.invalid",
            "assertion.action.malformed",
            "assertion.action.ingredientMismatch",
            "claim.missing",
            "claim.multiple",
            "claim.hardBindings.missing",
            "claim.cbor.invalid",
            "claim.malformed",
            "manifest.inaccessible",
            "manifest.multipleParents",
            "timeStamp.malformed",
            "general.error",
        ),
        _FAILED_MALFORMED,
    ),
}


def _credential_failures(codes: Sequence[str], language: Translator) -> str:
    """Failure codes in words, each with its codes: "the image was changed after it was
    signed (assertion.dataHash.mismatch)"; unknown codes quoted as they are."""
    grouped: dict[str, list[str]] = {}
    for code in codes:
        words = CREDENTIAL_FAILURE_WORDS.get(code)
        if words is None:
            # Translators: %(code)s is a C2PA validation code nobody put into words yet.
            words = language.say(gettext_noop("it fails the check “%(code)s”"), {"code": code})
            grouped.setdefault(words, [])
        else:
            grouped.setdefault(language.gettext(words), []).append(code)
    parts = [
        # Translators: e.g. "the image was changed after it was signed
        # (assertion.dataHash.mismatch)".
        language.say(gettext_noop("%(what)s (%(codes)s)"), {"what": what, "codes": ", ".join(c)})
        if c
        else what
        for what, c in grouped.items()
    ]
    return language.listing(parts) or language.gettext(gettext_noop("no reason given"))


def _signer_words(details: Mapping[str, Any], language: Translator) -> str:
    """Who signed the credential and whether the signer is on the trust list ("" when
    the credential does not say)."""
    name = str(details.get("signer_common_name") or "")
    issuer = str(details.get("signer_issuer") or "")
    signer = f"{name} ({issuer})" if name and issuer and issuer != name else name or issuer
    if not signer:
        return ""
    if details.get("signer_trusted"):
        return language.say(
            gettext_noop(" Signed by “%(signer)s”, on the trust list."), {"signer": signer}
        )
    # Translators: no trust list names this signer; anyone can make such a certificate.
    return language.say(
        gettext_noop(" Signed by “%(signer)s”, not on a trust list."), {"signer": signer}
    )


def _ai_claim(details: Mapping[str, Any], language: Translator) -> str:
    """What a C2PA AI statement says: about the picture itself, or about an ingredient."""
    if details.get("manifest_role") != "ingredient":
        return language.gettext(AI_MADE)
    title = details.get("ingredient_title")
    if title:
        return language.say(
            gettext_noop("it was made from an AI-generated ingredient, “%(title)s”"),
            {"title": str(title)[:QUOTE_MAX]},
        )
    return language.gettext(gettext_noop("it was made from an AI-generated ingredient"))


def _c2pa_statement_caveats(details: Mapping[str, Any], language: Translator) -> str:
    """The sentences after a C2PA AI statement: the tool it names, whether the credential
    validates (an Invalid one cannot be trusted) and who signed it."""
    parts = []
    tool = details.get("software_agent") or details.get("claim_generator")
    if tool:
        parts.append(
            language.say(
                gettext_noop(" The credential names “%(tool)s” as the tool."),
                {"tool": str(tool)[:QUOTE_MAX]},
            )
        )
    failures = [str(c) for c in details.get("validation_failures") or []]
    if failures or details.get("validation_state") == "Invalid":
        parts.append(
            language.say(
                gettext_noop(
                    " This statement cannot be trusted, because the credential fails "
                    "validation: %(failures)s."
                ),
                {"failures": _credential_failures(failures, language)},
            )
        )
    parts.append(_signer_words(details, language))
    return "".join(parts)


def _credentials_facts(evidence: Mapping[str, Any], language: Translator) -> dict[str, Any]:
    details = evidence.get("details") or {}
    failures = details.get("failures") or []
    codes = [str(f.get("code", "")) for f in failures if isinstance(f, Mapping)]
    return {
        "failures": _credential_failures([c for c in codes if c], language),
        "signer": _signer_words(details, language),
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
        # Translators: %(evidence)s is what it shares with the original, with the figures,
        # e.g. "it reproduces much of that picture's fine detail (…) and 296 of its features
        # line up with that picture's".
        sentence=gettext_noop(
            "Possibly %(original)s: %(evidence)s. That is not enough to call it an edited "
            "copy; compare the two side by side."
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
        third_party_sentence=gettext_noop(
            "No match with the merchant's evidence: this photo is not one of the merchant's "
            "product photos or packing-video frames, nor an edited copy of one%(nearest)s. "
            "That is not a pass; a person must look at it."
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
        # Translators: %(claim)s is e.g. "it was made or altered by AI"; %(credential)s is
        # empty or whole sentences about a C2PA credential (tool, validity, signer).
        sentence=gettext_noop(
            "The file carries %(label)s saying %(claim)s "
            "(%(source)s, %(field)s = %(value)s).%(credential)s"
        ),
        facts=_ai_facts,
    ),
    FindingKind(
        code=FindingCode.EDITING_SOFTWARE,
        title=gettext_noop("saved by editing software"),
        # It shows the file was edited, not how: a supporting fact.
        weight=0.25,
        level_rule=LevelRule.IMAGE,
        # Translators: %(editors)s lists every editor named in the file, e.g. "GIMP (EXIF
        # Software, Software = “GIMP 2.10”) and Adobe Photoshop (XMP, xmp:CreatorTool = …)".
        sentence=gettext_noop("The file was saved by editing software: %(editors)s."),
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
        third_party_sentence=ngettext_noop(
            "This buyer has %(count)d other dispute on record across all merchants "
            "(%(here)d with this merchant): %(high)d flagged high risk, "
            "%(rejected)d rejected.",
            "This buyer has %(count)d other disputes on record across all merchants "
            "(%(here)d with this merchant): %(high)d flagged high risk, "
            "%(rejected)d rejected.",
        ),
        facts=_repeat_facts,
    ),
    FindingKind(
        code=FindingCode.CREDENTIALS_INVALID,
        title=gettext_noop("content credential fails validation"),
        # The file changed after signing (or the credential is forged or broken), not how
        # or why (an editor that keeps metadata breaks it too): medium alone, flagged with
        # any other image finding, never high by itself.
        weight=0.35,
        level_rule=LevelRule.IMAGE,
        # Translators: %(failures)s is e.g. "the image was changed after it was signed
        # (assertion.dataHash.mismatch)"; %(signer)s is empty or a sentence on the signer.
        sentence=gettext_noop(
            "The file's C2PA content credential fails validation: %(failures)s. "
            "Nothing it states about the image can be trusted.%(signer)s"
        ),
        facts=_credentials_facts,
    ),
)

#: Every kind of finding, by code.
FINDING_KINDS: dict[FindingCode, FindingKind] = {kind.code: kind for kind in _KINDS}


def finding_kind(code: str) -> FindingKind:
    """The declaration of kind ``code`` (``ValueError`` for a code that is not one)."""
    return FINDING_KINDS[FindingCode(code)]


def finding_sentence(
    code: str,
    evidence: Mapping[str, Any],
    *,
    translator: Translator = ENGLISH,
    audience: Audience = Audience.MERCHANT,
) -> str:
    """The sentence of a finding of kind ``code``, built from its evidence in the
    translator's language (English by default), worded for ``audience``: the merchant
    (the engine's and the CLI's voice, "your photo") or anyone else ("the merchant's
    photo")."""
    kind = finding_kind(code)
    voiced = translator.to(audience)
    return voiced.say(kind.sentence_for(audience), kind.facts(evidence, voiced))
