"""One finding of every kind, in every wording its sentence has, raised by the engine's own
signal functions (so the evidence is what the workers store)."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from forensics.matching import ClaimMatch
from forensics.provenance import ProvenanceLabel
from forensics.same_photo import NEAR_COPY_THRESHOLD
from forensics.scoring import Signal, match_signal
from forensics.signals import (
    BuyerCounts,
    RepeatClaimantRule,
    ReuseFacts,
    provenance_signals,
    repeat_claimant_signal,
    reuse_signal,
)

PHOTO = "MUG-1 / mug-front.jpg"
FRAME = "packing video ORD-800 @ 3.0s"
OPENED = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)
REGISTRY = Path(__file__).resolve().parents[2] / "forensics" / "findings.py"


def a_match(*, score: float, derived: bool) -> ClaimMatch:
    """An engine result for ``photo:12``: resized, cropped into a screenshot, when derived."""
    return ClaimMatch(
        original_key="photo:12",
        method="features",
        hash_distance=18,
        inliers=140,
        same_photo_score=score,
        transforms=["resized", "cropped", "screenshot"] if derived else [],
        region=(10, 20, 30, 40) if derived else None,
        heatmap=None,
        is_derived=derived,
    )


def _label(code: str, value: str, *, ai: bool = True, **details: str) -> ProvenanceLabel:
    source = "EXIF Software" if not ai else "XMP"
    return ProvenanceLabel(code, source, "Software" if not ai else "Field", value, ai, details)


#: C2PA labels in each wording: a credential that fails validation (known, malformed and
#: unknown codes; none given), an ingredient's AI statement in it, a trusted signer.
SIGNER = {"signer_common_name": "C2PA Signer", "signer_issuer": "C2PA Test Signing Cert"}
C2PA_LABELS = [
    ProvenanceLabel(
        "c2pa_invalid",
        "C2PA manifest",
        "validation_state",
        "Invalid",
        False,
        {
            **SIGNER,
            "validation_state": "Invalid",
            "signer_trusted": False,
            "failures": [
                {"code": "assertion.dataHash.mismatch"},
                {"code": "assertion.required.missing"},
                {"code": "claim.cbor.invalid"},
                {"code": "cawg.identity.unheard_of"},
            ],
        },
    ),
    ProvenanceLabel(
        "c2pa_invalid", "C2PA manifest", "validation_state", "Invalid", False, {"failures": []}
    ),
    ProvenanceLabel(
        "c2pa_ai",
        "C2PA manifest",
        "digitalSourceType",
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        True,
        {
            **SIGNER,
            "manifest_role": "ingredient",
            "ingredient_title": "generated.png",
            "software_agent": "Adobe Firefly",
            "validation_state": "Invalid",
            "validation_failures": ["claimSignature.mismatch"],
            "signer_trusted": False,
        },
    ),
    ProvenanceLabel(
        "c2pa_ai",
        "C2PA manifest",
        "digitalSourceType",
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic",
        True,
        {"manifest_role": "ingredient", "validation_state": "Valid", "validation_failures": []},
    ),
    ProvenanceLabel(
        "c2pa_ai",
        "C2PA manifest",
        "digitalSourceType",
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        True,
        {
            **SIGNER,
            "manifest_role": "active",
            "claim_generator": "Imaginary Diffusion 2",
            "validation_state": "Trusted",
            "validation_failures": [],
            "signer_trusted": True,
        },
    ),
]


def example_signals() -> list[Signal]:
    """Every kind, and each variant of its sentence."""
    derived = a_match(score=0.99, derived=True)
    bare = dataclasses.replace(derived, transforms=[], region=None)
    found = [
        match_signal(derived, original_label=PHOTO),
        match_signal(derived, original_label=FRAME, original_is_frame=True),
        match_signal(bare, original_label=PHOTO),
        match_signal(a_match(score=NEAR_COPY_THRESHOLD, derived=False), original_label=PHOTO),
        match_signal(
            a_match(score=NEAR_COPY_THRESHOLD, derived=False),
            original_label=FRAME,
            original_is_frame=True,
        ),
        match_signal(a_match(score=0.3, derived=False), original_label=PHOTO),
        match_signal(None, original_label=""),
        *provenance_signals(
            [
                _label("c2pa_ai", "trainedAlgorithmicMedia"),
                _label("iptc_ai", "compositeWithTrainedAlgorithmicMedia"),
                _label("tc260_aigc", '{"Label": "2"}', Label="2"),
                _label("sd_parameters", "a cracked mug, steps: 20"),
                _label("comfyui_workflow", "{}"),
                _label("a_new_generator", "x"),
                _label(
                    "generator_metadata", '{"positive_prompt": "a mug"}', application="InvokeAI"
                ),
                _label("stealth_pnginfo", "a mug, Steps: 20", application="NovelAI"),
                _label("editing_software", "Midjourney", application="Midjourney"),
                _label("editing_software", "Adobe Photoshop 25.0", ai=False),
                _label("editing_software", "GIMP 2.10.36", ai=False),
            ]
        ),
        # One C2PA label per call: signals keep only the strongest label of a code.
        *(signal for label in C2PA_LABELS for signal in provenance_signals([label])),
        reuse_signal(ReuseFacts([(7, "E-7", OPENED)], 0)),
        reuse_signal(ReuseFacts([(7, "E-7", OPENED), (8, "E-8", OPENED)], 1)),
        reuse_signal(ReuseFacts([], 2)),
        repeat_claimant_signal(BuyerCounts(1, 1, 0, 0), RepeatClaimantRule(1, 1)),
        repeat_claimant_signal(BuyerCounts(2, 5, 1, 3), RepeatClaimantRule()),
    ]
    return [signal for signal in found if signal is not None]


def marked_texts() -> set[str | tuple[str, str]]:
    """Every text ``forensics/findings.py`` marks for translation, as makemessages sees
    it: ``gettext_noop(text)`` and ``ngettext_noop(singular, plural)``."""
    marked: set[str | tuple[str, str]] = set()
    for node in ast.walk(ast.parse(REGISTRY.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            texts = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id == "gettext_noop" and len(texts) == 1:
                marked.add(texts[0])
            elif node.func.id == "ngettext_noop" and len(texts) == 2:
                marked.add((texts[0], texts[1]))
    return marked
