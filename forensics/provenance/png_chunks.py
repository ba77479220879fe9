"""PNG text-chunk labels (tEXt/zTXt/iTXt, also after IDAT): ``AIGC``, Stable Diffusion
WebUI / Fooocus ``parameters``, ComfyUI ``prompt``/``workflow``, InvokeAI
(``invokeai_metadata``, ``invokeai_graph``, ``sd-metadata``, ``Dream``), SwarmUI, NovelAI's
``Comment``, Midjourney's ``Description`` (its job id), and ``Software``/``Source``."""

from __future__ import annotations

from collections.abc import Iterator

from forensics.provenance.aigc import parse_aigc
from forensics.provenance.common import DETAIL_MAX, JSON_MAX, ProvenanceLabel, clip, json_loads
from forensics.provenance.generators import (
    GENERATOR_KEYWORDS,
    classify_software,
    comfy_details,
    generator_details,
    generator_label,
    midjourney_details,
    novelai_details,
    parse_sd_parameters,
    software_label,
)

SOURCE = "PNG text chunk"


def labels_from_png_text(texts: list[tuple[str, str]]) -> Iterator[ProvenanceLabel]:
    """The labels of a PNG's (keyword, text) chunks, in chunk order."""
    for keyword, text in texts:
        key = keyword.strip()
        lower = key.lower()
        if lower in ("aigc", "tc260:aigc"):
            details = parse_aigc(text)
            if details is None:
                if not text.strip():
                    continue
                details = {"parse_error": True}
            yield ProvenanceLabel(
                code="tc260_aigc",
                source="PNG text chunk",
                field=key,
                value=clip(text),
                ai_generated=True,
                details=details,
            )
        elif lower == "parameters" and text.strip():
            parsed = json_loads(text)
            details = parse_sd_parameters(text) if not isinstance(parsed, dict) else {}
            if isinstance(parsed, dict):  # Fooocus and others write JSON parameters
                for k in ("prompt", "negative_prompt", "steps", "sampler", "seed", "base_model"):
                    if isinstance(parsed.get(k), str | int | float):
                        details[k] = clip(str(parsed[k]), DETAIL_MAX)
            if "fooocus" in text[:JSON_MAX].lower():  # its version, in either scheme
                details["application"] = "Fooocus"
            yield ProvenanceLabel(
                code="sd_parameters",
                source="PNG text chunk",
                field=key,
                value=clip(text),
                ai_generated=True,
                details=details,
            )
        elif lower in ("prompt", "workflow"):
            comfy = comfy_details(text)
            if comfy is not None:
                yield ProvenanceLabel(
                    code="comfyui_workflow",
                    source="PNG text chunk",
                    field=key,
                    value=clip(text),
                    ai_generated=True,
                    details=comfy,
                )
        elif lower in GENERATOR_KEYWORDS and text.strip():
            details = generator_details(lower, text)
            if details is not None:
                yield generator_label(SOURCE, key, text, GENERATOR_KEYWORDS[lower], details)
        elif lower == "comment":
            novelai = novelai_details(text)
            if novelai is not None:
                yield generator_label(SOURCE, key, text, "NovelAI", novelai)
        elif lower == "description":
            midjourney = midjourney_details(text)
            if midjourney is not None:
                yield generator_label(SOURCE, key, text, "Midjourney", midjourney)
        elif lower in ("software", "source"):
            app = classify_software(text)
            if app is not None:
                yield software_label(SOURCE, key, text, app)
