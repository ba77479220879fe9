"""Generator and editor metadata: applications named in Software-like fields, Stable
Diffusion WebUI ``parameters``, ComfyUI graphs, and the generation metadata of InvokeAI,
NovelAI, SwarmUI and Midjourney.

Hand-written, bounded readers rather than a PyPI parser: ``sd-parsers`` (MIT) decodes
every pixel of a PNG to reach its text (``Image.text``), reads stealth info through
``list(getdata())`` and an unbounded ``gzip.decompress``, and keeps one generator per file;
``sd-prompt-reader`` is a desktop viewer pinned to old Pillow. Neither is safe on hostile
uploads, and both cover fewer formats than these few rules."""

from __future__ import annotations

import re
from typing import Any

from forensics.provenance.common import DETAIL_MAX, JSON_MAX, ProvenanceLabel, clip, json_loads

# (pattern, canonical name, is an AI generator); first match wins, so specific before general.
_APPS: tuple[tuple[re.Pattern[str], str, bool], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), name, ai)
    for pattern, name, ai in (
        # AI generators
        (
            r"\b(?:adobe |macromedia )?fireworks (?:mx|cs\d|\d)|\b(?:adobe|macromedia) fireworks\b",
            "Adobe Fireworks",
            False,
        ),
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
        (r"\bswarm\s?ui\b", "SwarmUI", True),
        (r"\bdraw things\b", "Draw Things", True),
        (r"\bgoogle (?:ai|gemini|imagen)\b|\bimagen [2-9]\b", "Google AI (Imagen/Gemini)", True),
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
        (r"\bpaint\s?shop\b", "PaintShop Pro", False),
        (r"\bwindows (?:live )?photo (?:gallery|viewer)\b", "Windows Photo Gallery", False),
        (r"\bcamedia master\b|\bolympus master\b", "Olympus CAMEDIA Master", False),
        (r"\bpicasa\b", "Picasa", False),
        (r"\bacdsee\b|\bacd systems\b", "ACDSee", False),
        (r"\bcorel photo-?paint\b", "Corel PHOTO-PAINT", False),
        (r"\bcapture one\b", "Capture One", False),
        (r"\bdxo (?:photolab|optics)\b", "DxO PhotoLab", False),
        (r"\bdarktable\b", "darktable", False),
        (r"\brawtherapee\b", "RawTherapee", False),
        (r"\birfanview\b", "IrfanView", False),
        (r"\bxnview\b", "XnView", False),
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


def generator_label(
    source: str, field: str, value: str, application: str, details: dict[str, Any]
) -> ProvenanceLabel:
    """A ``generator_metadata`` label: a named AI generator's own record of the image."""
    return ProvenanceLabel(
        code="generator_metadata",
        source=source,
        field=field,
        value=clip(value),
        ai_generated=True,
        details={"application": application, **details},
    )


#: PNG text keywords (lower case) that only one generator writes, and its name.
GENERATOR_KEYWORDS: dict[str, str] = {
    "invokeai_metadata": "InvokeAI",
    "invokeai_graph": "InvokeAI",
    "invokeai_workflow": "InvokeAI",
    "sd-metadata": "InvokeAI",
    "dream": "InvokeAI",
    "sui_image_params": "SwarmUI",
}


def _pick(source: Any, keys: dict[str, str]) -> dict[str, Any]:
    """The scalar values of ``source`` under ``keys`` (its key → our detail name)."""
    details: dict[str, Any] = {}
    if not isinstance(source, dict):
        return details
    for key, name in keys.items():
        value = source.get(key)
        if (
            isinstance(value, str | int | float)
            and not isinstance(value, bool)
            and name not in details
        ):
            details[name] = clip(str(value), DETAIL_MAX)
    return details


_INVOKE_KEYS = {
    "positive_prompt": "prompt",
    "negative_prompt": "negative_prompt",
    "seed": "seed",
    "steps": "steps",
    "cfg_scale": "cfg_scale",
    "scheduler": "sampler",
    "sampler": "sampler",
    "generation_mode": "generation_mode",
    "type": "generation_mode",
    "app_version": "app_version",
}
_SWARM_KEYS = {
    "prompt": "prompt",
    "negativeprompt": "negative_prompt",
    "model": "model",
    "seed": "seed",
    "steps": "steps",
    "cfgscale": "cfg_scale",
    "sampler": "sampler",
    "swarm_version": "app_version",
}
# Legacy InvokeAI "Dream" command line: "prompt [negative]" -s 50 -S 42 -W 512 -C 7.5 -A k_lms
_DREAM = re.compile(r'^\s*"((?:[^"\\]|\\.){0,4000})"')
_DREAM_FLAG = re.compile(r"\s-([sSWHCA])\s+([^\s]{1,100})")
_DREAM_NAMES = {
    "s": "steps",
    "S": "seed",
    "W": "width",
    "H": "height",
    "C": "cfg_scale",
    "A": "sampler",
}


def generator_details(keyword: str, text: str) -> dict[str, Any] | None:
    """Prompt and main settings of a ``GENERATOR_KEYWORDS`` chunk (``parse_error`` when
    its JSON cannot be read); None for a ``Dream`` text that is not InvokeAI's command
    line (a common word, unlike the other keywords)."""
    key = keyword.strip().lower()
    if key == "dream":
        match = _DREAM.match(text[:JSON_MAX])
        if match is None:
            return None
        details: dict[str, Any] = {"prompt": clip(match.group(1), DETAIL_MAX)}
        for count, flag in enumerate(_DREAM_FLAG.finditer(text, match.end(), 4000)):
            if count >= 16:
                break
            details.setdefault(_DREAM_NAMES[flag.group(1)], clip(flag.group(2), DETAIL_MAX))
        return details if len(details) > 1 else None
    parsed = json_loads(text)
    if not isinstance(parsed, dict):
        return {"parse_error": True}
    if key == "sd-metadata":  # InvokeAI 2.x: {"model_weights": …, "image": {"prompt": [...]}}
        image = parsed.get("image")
        details = _pick(image, _INVOKE_KEYS)
        prompts = image.get("prompt") if isinstance(image, dict) else None
        if isinstance(prompts, list) and prompts and isinstance(prompts[0], dict):
            prompts = prompts[0].get("prompt")
        if isinstance(prompts, str):
            details["prompt"] = clip(prompts, DETAIL_MAX)
        return {
            **details,
            **_pick(parsed, {"model_weights": "model", "app_version": "app_version"}),
        }
    if key == "sui_image_params":
        return _pick(parsed.get("sui_image_params", parsed), _SWARM_KEYS)
    if key in ("invokeai_graph", "invokeai_workflow"):
        nodes = parsed.get("nodes")
        return {"node_count": len(nodes)} if isinstance(nodes, dict | list) else {}
    details = _pick(parsed, _INVOKE_KEYS)
    model = parsed.get("model")
    if isinstance(model, dict):
        details.update(_pick(model, {"name": "model", "model_name": "model"}))
    elif isinstance(model, str):
        details["model"] = clip(model, DETAIL_MAX)
    return details


_NOVELAI_KEYS = {
    "prompt": "prompt",
    "uc": "negative_prompt",
    "steps": "steps",
    "seed": "seed",
    "sampler": "sampler",
    "scale": "cfg_scale",
    "request_type": "generation_mode",
}


def novelai_details(comment: str) -> dict[str, Any] | None:
    """Settings of NovelAI's ``Comment`` JSON; None when the text is not one (a plain
    comment, or another tool's JSON)."""
    parsed = json_loads(comment)
    if not isinstance(parsed, dict):
        return None
    # NovelAI always writes its sampler settings with "uc" (its negative prompt) and
    # "n_samples"; a photo's comment has neither.
    if not {"steps", "sampler", "seed"} <= parsed.keys() or not {"uc", "n_samples"} & parsed.keys():
        return None
    return _pick(parsed, _NOVELAI_KEYS)


_JOB_ID = re.compile(
    r"\bJob ID:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
    re.IGNORECASE,
)


def midjourney_details(description: str) -> dict[str, Any] | None:
    """The job id (and prompt) Midjourney writes into an image's description; None when
    the text has no ``Job ID: <uuid>``."""
    text = description[:JSON_MAX]
    match = _JOB_ID.search(text)
    if match is None:
        return None
    details: dict[str, Any] = {"job_id": match.group(1).lower()}
    prompt = text[: match.start()].strip()
    if prompt:
        details["prompt"] = clip(prompt, DETAIL_MAX)
    return details


def hidden_payload(text: str) -> tuple[str, dict[str, Any]]:
    """The generator and settings of a stealth PNG info payload: NovelAI's JSON (its PNG
    text chunks, with ``Comment``) or SD WebUI ``parameters``."""
    parsed = json_loads(text)
    if isinstance(parsed, dict):
        comment = parsed.get("Comment")
        details = novelai_details(comment) if isinstance(comment, str) else None
        software = parsed.get("Software")
        if details is not None or (isinstance(software, str) and "novelai" in software.lower()):
            details = details or {}
            if isinstance(parsed.get("Description"), str):
                details.setdefault("prompt", clip(parsed["Description"], DETAIL_MAX))
            return "NovelAI", details
        return "Stable Diffusion WebUI", _pick(parsed, {"parameters": "parameters"})
    if looks_like_sd_parameters(text):
        return "Stable Diffusion WebUI", parse_sd_parameters(text)
    return "Stable Diffusion WebUI", {}
