"""C2PA content credentials via c2pa-python (named so it cannot shadow the ``c2pa`` library).

Every ``digitalSourceType`` in the manifest store whose IPTC term is an AI one gives a
label, whatever the signature check says (the validation state is in ``details``). Remote
manifests and OCSP are never fetched.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

from forensics.provenance.common import (
    DETAIL_MAX,
    IPTC_AI_TERMS,
    ProvenanceLabel,
    clip,
    iptc_term,
)

logger = logging.getLogger(__name__)

_C2PA_SETTINGS = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
}


def _walk_json(node: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every dict entry in a JSON tree (bounded depth)."""
    if depth > 24:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key), value
            yield from _walk_json(value, child, depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node[:1000]):
            yield from _walk_json(value, f"{path}[{index}]", depth + 1)


def labels_from_c2pa_store(store: dict[str, Any]) -> list[ProvenanceLabel]:
    """AI labels in a C2PA manifest store, as c2pa-python's ``Reader.json()`` gives it.

    Every ``digitalSourceType`` (any namespace prefix, any manifest in the store,
    actions or IPTC assertions) whose IPTC term is an AI one gives one label.
    """
    if not isinstance(store, dict):
        return []
    manifests = store.get("manifests")
    if not isinstance(manifests, dict):
        return []
    active = store.get("active_manifest")
    state = store.get("validation_state")
    statuses = store.get("validation_status")
    failures: list[str] = [
        s["code"]
        for s in (statuses if isinstance(statuses, list) else [])
        if isinstance(s, dict) and isinstance(s.get("code"), str)
    ]
    labels: list[ProvenanceLabel] = []
    seen: set[tuple[str, str]] = set()
    for manifest_label, manifest in list(manifests.items())[:64]:
        if not isinstance(manifest, dict):
            continue
        generator = _generator_name(manifest)
        signature = manifest.get("signature_info")
        for path, key, value in _walk_json(manifest.get("assertions"), "assertions"):
            if key.rsplit(":", 1)[-1].lower() != "digitalsourcetype" or not isinstance(value, str):
                continue
            term = iptc_term(value)
            if term not in IPTC_AI_TERMS or (manifest_label, term) in seen:
                continue
            seen.add((manifest_label, term))
            details: dict[str, Any] = {
                "digital_source_type": term,
                "uri": clip(value, DETAIL_MAX),
                "manifest": clip(str(manifest_label), DETAIL_MAX),
                "active_manifest": manifest_label == active,
                "assertion_path": clip(path, DETAIL_MAX),
                "validation_state": state if isinstance(state, str) else None,
                "validation_failures": [clip(c, 120) for c in failures[:10]],
            }
            if generator:
                details["claim_generator"] = generator
            agent = _software_agent(manifest.get("assertions"), path)
            if agent:
                details["software_agent"] = agent
            if isinstance(signature, dict):
                for field in ("issuer", "common_name", "time"):
                    if isinstance(signature.get(field), str):
                        details[f"signer_{field}"] = clip(signature[field], DETAIL_MAX)
            labels.append(
                ProvenanceLabel(
                    code="c2pa_ai",
                    source="C2PA manifest",
                    field="digitalSourceType",
                    value=clip(value),
                    ai_generated=True,
                    details=details,
                )
            )
    return labels


def _generator_name(manifest: dict[str, Any]) -> str:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name = info[0].get("name")
        version = info[0].get("version")
        if isinstance(name, str):
            return clip(f"{name} {version}" if isinstance(version, str) else name, DETAIL_MAX)
    generator = manifest.get("claim_generator")
    return clip(generator, DETAIL_MAX) if isinstance(generator, str) else ""


def _software_agent(assertions: Any, path: str) -> str:
    """The softwareAgent beside a digitalSourceType at ``path`` (an action), if any."""
    parent_path = path.rsplit(".", 1)[0]
    for candidate, key, value in _walk_json(assertions, "assertions"):
        if key == "softwareAgent" and candidate.rsplit(".", 1)[0] == parent_path:
            if isinstance(value, dict) and isinstance(value.get("name"), str):
                return clip(value["name"], DETAIL_MAX)
            if isinstance(value, str):
                return clip(value, DETAIL_MAX)
    return ""


def _read_c2pa_store(data: bytes, mime: str) -> dict[str, Any] | None:
    """The manifest store JSON of an embedded C2PA manifest, or None."""
    try:
        import c2pa
    except Exception:  # not installed, or its native library cannot load
        logger.debug("provenance: c2pa-python unavailable", exc_info=True)
        return None
    try:
        context = c2pa.Context(c2pa.Settings.from_dict(_C2PA_SETTINGS))
        with context:
            reader = c2pa.Reader.try_create(mime or None, io.BytesIO(data), context=context)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
    except Exception:
        logger.debug("provenance: C2PA manifest unreadable", exc_info=True)
        return None
    return store if isinstance(store, dict) else None


def labels_from_c2pa(data: bytes, mime: str) -> list[ProvenanceLabel]:
    """The AI labels of a file's embedded C2PA manifest store; [] when it has none."""
    # Embedded manifests sit in a JUMBF box labelled "c2pa": skip the costly native reader.
    if b"c2pa" not in data:
        return []
    store = _read_c2pa_store(data, mime)
    return labels_from_c2pa_store(store) if store is not None else []
