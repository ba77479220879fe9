"""PNG text-chunk labels (tEXt/zTXt/iTXt, also after IDAT): ``AIGC``, Stable Diffusion
WebUI ``parameters``, ComfyUI ``prompt``/``workflow``, and ``Software``/``Source``."""

from __future__ import annotations

from collections.abc import Iterator

from forensics.provenance.aigc import parse_aigc
from forensics.provenance.common import DETAIL_MAX, ProvenanceLabel, clip, json_loads
from forensics.provenance.generators import (
    classify_software,
    comfy_details,
    parse_sd_parameters,
    software_label,
)


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
        elif lower in ("software", "source"):
            app = classify_software(text)
            if app is not None:
                yield software_label("PNG text chunk", key, text, app)
