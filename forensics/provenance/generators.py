"""Generator and editor metadata: applications named in Software-like fields, Stable
Diffusion WebUI ``parameters`` and ComfyUI graphs."""

from __future__ import annotations

import re
from typing import Any

from forensics.provenance.common import DETAIL_MAX, JSON_MAX, ProvenanceLabel, clip, json_loads

# (pattern, canonical name, is an AI generator); first match wins, so specific before general.
_APPS: tuple[tuple[re.Pattern[str], str, bool], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), name, ai)
    for pattern, name, ai in (
        # AI generators
        (r"\bfirefly\b", "Adobe Firefly", True),
        (r"\bmidjourney\b", "Midjourney", True),
        (r"\bdall[\s\u00b7\-.·]?e\b", "DALL·E", True),
        (r"\bstable[\s_-]?diffusion\b", "Stable Diffusion", True),
        (r"\bsdxl\b", "Stable Diffusion", True),
        (r"\bautomatic1111\b|\bsd[\s_-]?webui\b", "Stable Diffusion WebUI", True),
        (r"\bcomfy\s?ui\b", "ComfyUI", True),
        (r"\bnovel\s?ai\b", "NovelAI", True),
        (r"\binvoke\s?ai\b", "InvokeAI", True),
        (r"\bfooocus\b", "Fooocus", True),
        (r"\bleonardo\.?ai\b", "Leonardo.Ai", True),
        (r"\bideogram\b", "Ideogram", True),
        (
            r"\bbing image creator\b|\bimage creator from (microsoft )?designer\b",
            "Bing Image Creator",
            True,
        ),
        (r"\bopenai\b|\bchatgpt\b|\bgpt-?4o\b", "OpenAI", True),
        (r"\bflux(\.1)?[\s-](dev|pro|schnell|kontext)\b|\bblack forest labs\b", "FLUX", True),
        (r"\bkling\b|可灵", "Kling", True),
        (r"即梦|\bjimeng\b|\bdreamina\b", "Jimeng/Dreamina", True),
        (r"豆包|\bdoubao\b", "Doubao", True),
        (r"通义万相|\bwanx\b|\btongyi\b", "Tongyi Wanxiang", True),
        (r"文心一格|\bernie[\s-]?vilg\b", "ERNIE-ViLG", True),
        # editing applications
        (r"\blightroom\b", "Adobe Lightroom", False),
        (r"\bphotoshop\b|\bimageready\b", "Adobe Photoshop", False),
        (r"\bgimp\b", "GIMP", False),
        (r"\bremini\b", "Remini", False),
        (r"\blensa\b", "Lensa", False),
        (r"美图|\bmeitu\b|\bmtxx\b|\bbeautycam\b|美颜相机", "Meitu", False),
        (r"醒图|\bhypic\b|\bxingtu\b", "Xingtu (Hypic)", False),
        (r"\bwink\b", "Wink", False),
        (r"\bpicsart\b", "Picsart", False),
        (r"\bsnapseed\b", "Snapseed", False),
        (r"\bcanva\b", "Canva", False),
        (r"\bfotor\b", "Fotor", False),
        (r"\bfacetune\b", "Facetune", False),
        (r"\bfaceapp\b", "FaceApp", False),
        (r"\bpixelmator\b", "Pixelmator", False),
        (r"\baffinity photo\b", "Affinity Photo", False),
        (r"\bpaint\.net\b", "Paint.NET", False),
        (r"\bphotopea\b", "Photopea", False),
        (r"\bpixlr\b", "Pixlr", False),
        (r"\bphotoscape\b", "PhotoScape", False),
        (r"\bpolarr\b", "Polarr", False),
        (r"\bluminar\b", "Luminar", False),
        (r"\bphotoroom\b", "PhotoRoom", False),
        (r"\bpaintshop\b", "PaintShop Pro", False),
        (r"\bcapcut\b|剪映", "CapCut", False),
        (r"稿定|\bgaoding\b", "Gaoding", False),
        (r"黄油相机", "Huangyou Camera", False),
        (r"轻颜|\bfaceu\b", "Faceu", False),
        (r"\bvsco\b", "VSCO", False),
    )
)


def classify_software(value: str) -> tuple[str, bool] | None:
    """The (application name, is AI generator) a Software-like string names, else None.

    Camera and phone firmware strings ("HDR+ 1.0", "17.1", "Android …") name no listed
    application and give None.
    """
    text = value.strip()[:500]
    if not text:
        return None
    for pattern, name, ai in _APPS:
        if pattern.search(text):
            return name, ai
    return None


def software_label(source: str, field: str, value: str, app: tuple[str, bool]) -> ProvenanceLabel:
    """The ``editing_software`` label for an application ``classify_software`` named."""
    name, ai = app
    return ProvenanceLabel(
        code="editing_software",
        source=source,
        field=field,
        value=clip(value),
        ai_generated=ai,
        details={"application": name, "kind": "ai_generator" if ai else "editor"},
    )


_SD_SETTINGS = re.compile(r"(?:^|\n)(Steps:\s*\d+.*)$", re.DOTALL)
_SD_KEEP = (
    "Steps",
    "Sampler",
    "CFG scale",
    "Seed",
    "Size",
    "Model",
    "Model hash",
    "Denoising strength",
)
_SD_PAIR = re.compile(r"\s*([\w ./-]+?):\s*(\"(?:[^\"\\]|\\.)*\"|[^,]*)(?:,|$)")


def looks_like_sd_parameters(text: str) -> bool:
    """True when the text has the ``Steps: N, Sampler: …`` line of SD WebUI parameters."""
    return bool(re.search(r"\bSteps:\s*\d+", text)) and "Sampler:" in text


def parse_sd_parameters(text: str) -> dict[str, Any]:
    """Prompt, negative prompt and main settings of an A1111/Forge ``parameters`` text."""
    text = text[:JSON_MAX]
    details: dict[str, Any] = {}
    settings_match = _SD_SETTINGS.search(text)
    head = text[: settings_match.start()] if settings_match else text
    prompt, _sep, negative = head.partition("Negative prompt:")
    if prompt.strip():
        details["prompt"] = clip(prompt, DETAIL_MAX)
    if negative.strip():
        details["negative_prompt"] = clip(negative, DETAIL_MAX)
    if settings_match:
        line = settings_match.group(1).split("\n", 1)[0][:2000]
        for match in _SD_PAIR.finditer(line):
            key, value = match.group(1).strip(), match.group(2).strip().strip('"')
            if key in _SD_KEEP and key not in details:
                details[key] = clip(value, DETAIL_MAX)
    return details


def comfy_details(text: str) -> dict[str, Any] | None:
    """Node count and types of a ComfyUI prompt or workflow graph; None when not one."""
    parsed = json_loads(text)
    if isinstance(parsed, dict):
        nodes: list[Any]
        if isinstance(parsed.get("nodes"), list):  # workflow (UI graph)
            nodes = parsed["nodes"]
            types = [n.get("type") for n in nodes if isinstance(n, dict)]
        else:  # prompt (API graph): {"3": {"class_type": ..., "inputs": {...}}}
            nodes = [v for v in parsed.values() if isinstance(v, dict) and "class_type" in v]
            types = [n.get("class_type") for n in nodes]
        if not nodes:
            return None
        names = sorted({t for t in types if isinstance(t, str)})
        return {"node_count": len(nodes), "node_types": [clip(t, 80) for t in names[:30]]}
    stripped = text.lstrip()
    if stripped.startswith("{") and ("class_type" in text or '"nodes"' in text):
        return {"parse_error": True}
    return None
