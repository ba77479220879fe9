"""C2PA content credentials via c2pa-python (named so it cannot shadow the ``c2pa`` library).

c2pa-python validates the manifest store (hashes, signatures, ingredients) offline: remote
manifests and OCSP are never fetched. The labels come in a fixed order, whatever the order
of the store's JSON: the validation first, then the active manifest, then the other
manifests sorted by label.

* ``c2pa_invalid`` — the store's validation state is Invalid; ``details["failures"]``
  lists the failure codes. ``signingCredential.untrusted`` is never one: without a trust
  list every signer is untrusted, which ``details["signer_trusted"]`` says.
* ``c2pa_ai`` — an AI ``digitalSourceType`` (``common.IPTC_AI_TERMS``): the active
  manifest's own statement (``manifest_role`` "active") or an ingredient's
  ("ingredient", with its title), with the validation state, the failures that concern
  it (``validation_failures``) and the signer.
* ``editing_software`` — editing actions (``EDITING_ACTIONS``) of the active manifest,
  one label per software agent (the claim generator when an action names none).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensics.provenance.common import (
    DETAIL_MAX,
    IPTC_AI_TERMS,
    ProvenanceLabel,
    clip,
    iptc_term,
)

logger = logging.getLogger(__name__)

#: Never fetched: a claim photo must not make the server call a URL it names.
_VERIFY = {"remote_manifest_fetch": False, "ocsp_fetch": False}
SOURCE = "C2PA manifest"
#: The signer does not chain to a trust anchor: said in words, never a failure.
UNTRUSTED = "signingCredential.untrusted"
TRUSTED = "signingCredential.trusted"
#: Actions that change what the picture shows (not opening, resizing, re-encoding,
#: rotating or metadata edits): they make an editing label naming who did them.
EDITING_ACTIONS = frozenset(
    {
        "c2pa.edited",
        "c2pa.filtered",
        "c2pa.color_adjustments",
        "c2pa.cropped",
        "c2pa.drawing",
        "c2pa.placed",
        "c2pa.removed",
    }
)
_MANIFESTS_MAX = 64
_FAILURES_MAX = 10
_MANIFEST_IN_URL = re.compile(r"/c2pa/([^/]+)/")


def _walk_json(
    node: Any, path: str, depth: int = 0
) -> Iterator[tuple[str, str, Any, dict[str, Any]]]:
    """(path, key, value, the dict holding it) of every dict entry in a JSON tree (bounded
    depth)."""
    if depth > 24:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key), value, node
            yield from _walk_json(value, child, depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node[:1000]):
            yield from _walk_json(value, f"{path}[{index}]", depth + 1)


def _entries(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every validation status entry (``{"code", "url", "explanation"}``) in a tree."""
    if depth > 8:
        return
    if isinstance(node, dict):
        if isinstance(node.get("code"), str):
            yield node
            return
        for value in node.values():
            yield from _entries(value, depth + 1)
    elif isinstance(node, list):
        for value in node[:1000]:
            yield from _entries(value, depth + 1)


def _entries_in(node: Any, outcome: str, depth: int = 0) -> Iterator[dict[str, Any]]:
    """The status entries of every ``outcome`` list ("failure", "success") of a
    ``validation_results`` tree."""
    if depth > 8:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key == outcome:
                yield from _entries(value)
            else:
                yield from _entries_in(value, outcome, depth + 1)
    elif isinstance(node, list):
        for value in node[:1000]:
            yield from _entries_in(value, outcome, depth + 1)


def _manifest_of(entry: dict[str, Any]) -> str:
    """The label of the manifest a status entry's URL points into ("" if none)."""
    url = entry.get("url")
    match = _MANIFEST_IN_URL.search(url) if isinstance(url, str) else None
    return match.group(1) if match else ""


@dataclass(frozen=True)
class _Validation:
    """What c2pa-python's validation of a store says."""

    state: str | None
    #: ``{"code", "explanation", "manifest"}`` of each failure, by code, without UNTRUSTED.
    failures: list[dict[str, str]]
    untrusted: frozenset[str]
    trusted: frozenset[str]

    @property
    def invalid(self) -> bool:
        """The store fails validation (an older reader gives failures but no state)."""
        return self.state == "Invalid" or (self.state is None and bool(self.failures))

    def signer_trusted(self, manifest: str, *, active: bool) -> bool:
        """The manifest's signer chains to a trust anchor the caller gave."""
        if manifest in self.untrusted:
            return False
        return manifest in self.trusted or (active and self.state == "Trusted")


def _validation(store: dict[str, Any]) -> _Validation:
    state = store.get("validation_state")
    results = store.get("validation_results")
    failed = [*_entries(store.get("validation_status")), *_entries_in(results, "failure")]
    failures: dict[str, dict[str, str]] = {}
    untrusted: set[str] = set()
    for entry in failed:
        code = clip(entry["code"], 120)
        if code == UNTRUSTED:
            untrusted.add(_manifest_of(entry))
        elif code not in failures and len(failures) < _FAILURES_MAX:
            said = entry.get("explanation")
            failures[code] = {
                "code": code,
                "explanation": clip(said, DETAIL_MAX) if isinstance(said, str) else "",
                "manifest": clip(_manifest_of(entry), DETAIL_MAX),
            }
    trusted = {_manifest_of(e) for e in _entries_in(results, "success") if e["code"] == TRUSTED}
    return _Validation(
        state=state if isinstance(state, str) else None,
        failures=list(failures.values()),
        untrusted=frozenset(untrusted),
        trusted=frozenset(trusted),
    )


def _ordered(manifests: dict[str, Any], active: str) -> list[tuple[str, dict[str, Any]]]:
    """The manifests, the active one first, then the others sorted by label (the store's
    JSON order changes from one read to the next)."""
    items = [(str(label), m) for label, m in manifests.items() if isinstance(m, dict)]
    items.sort(key=lambda item: (item[0] != active, item[0]))
    return items[:_MANIFESTS_MAX]


def _ingredient_refs(manifests: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """For each manifest that is another one's ingredient: its title there, and the
    failures recorded for it when it was used (UNTRUSTED left out)."""
    refs: dict[str, dict[str, Any]] = {}
    for _label, manifest in manifests:
        ingredients = manifest.get("ingredients")
        for ingredient in ingredients[:1000] if isinstance(ingredients, list) else []:
            if not isinstance(ingredient, dict):
                continue
            target = ingredient.get("active_manifest")
            if not isinstance(target, str) or target in refs:
                continue
            title = ingredient.get("title")
            codes = [e["code"] for e in _entries(ingredient.get("validation_status"))]
            refs[target] = {
                "title": clip(title, DETAIL_MAX) if isinstance(title, str) else "",
                "failures": [clip(c, 120) for c in dict.fromkeys(codes) if c != UNTRUSTED][
                    :_FAILURES_MAX
                ],
            }
    return refs


def _generator_name(manifest: dict[str, Any]) -> str:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name = info[0].get("name")
        version = info[0].get("version")
        if isinstance(name, str):
            return clip(f"{name} {version}" if isinstance(version, str) else name, DETAIL_MAX)
    generator = manifest.get("claim_generator")
    return clip(generator, DETAIL_MAX) if isinstance(generator, str) else ""


def _agent_name(action: dict[str, Any], agents: Any = None) -> str:
    """The software agent an action names (name and version), or ""."""
    agent = action.get("softwareAgent")
    index = action.get("softwareAgentIndex")
    if agent is None and isinstance(index, int) and isinstance(agents, list):
        agent = agents[index] if 0 <= index < len(agents) else None
    if isinstance(agent, dict):
        name, version = agent.get("name"), agent.get("version")
        if isinstance(name, str) and name.strip():
            if isinstance(version, str) and version.strip() and version not in name:
                return clip(f"{name} {version}", DETAIL_MAX)
            return clip(name, DETAIL_MAX)
    return clip(agent, DETAIL_MAX) if isinstance(agent, str) and agent.strip() else ""


def _actions(manifest: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(action, software agent) of every action the manifest records, in order."""
    assertions = manifest.get("assertions")
    for assertion in assertions[:1000] if isinstance(assertions, list) else []:
        label = assertion.get("label") if isinstance(assertion, dict) else None
        data = assertion.get("data") if isinstance(assertion, dict) else None
        if not isinstance(label, str) or not label.startswith("c2pa.actions"):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
            continue
        for action in data["actions"][:1000]:
            if isinstance(action, dict) and isinstance(action.get("action"), str):
                yield action["action"], _agent_name(action, data.get("softwareAgents"))


def _manifest_facts(
    label: str,
    manifest: dict[str, Any],
    *,
    active: bool,
    validation: _Validation,
    refs: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """What every label from one manifest carries: which manifest, its role, who made and
    signed it, and whether the store (and its record as an ingredient) validates."""
    ref = refs.get(label, {})
    failures = [f["code"] for f in validation.failures] if validation.invalid else []
    facts: dict[str, Any] = {
        "manifest": clip(label, DETAIL_MAX),
        "manifest_role": "active" if active else "ingredient",
        "active_manifest": active,
        "validation_state": validation.state,
        "validation_failures": list(dict.fromkeys([*failures, *ref.get("failures", [])])),
        "signer_trusted": validation.signer_trusted(label, active=active),
    }
    if not active and ref.get("title"):
        facts["ingredient_title"] = ref["title"]
    generator = _generator_name(manifest)
    if generator:
        facts["claim_generator"] = generator
    signature = manifest.get("signature_info")
    if isinstance(signature, dict):
        for field in ("issuer", "common_name", "time"):
            if isinstance(signature.get(field), str):
                facts[f"signer_{field}"] = clip(signature[field], DETAIL_MAX)
    return facts


def _ai_labels(manifest: dict[str, Any], facts: dict[str, Any]) -> list[ProvenanceLabel]:
    """One label per AI term the manifest states, quoting the statement that names its
    software agent when there is one."""
    chosen: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, key, value, holder in _walk_json(manifest.get("assertions"), "assertions"):
        if key.rsplit(":", 1)[-1].lower() != "digitalsourcetype" or not isinstance(value, str):
            continue
        term = iptc_term(value)
        if term not in IPTC_AI_TERMS:
            continue
        if term not in chosen or (_agent_name(holder) and not _agent_name(chosen[term][2])):
            chosen[term] = (value, path, holder)
    labels = []
    for term, (value, path, holder) in chosen.items():
        details: dict[str, Any] = {
            "digital_source_type": term,
            "uri": clip(value, DETAIL_MAX),
            "assertion_path": clip(path, DETAIL_MAX),
            **facts,
        }
        if isinstance(holder.get("action"), str):
            details["action"] = clip(holder["action"], DETAIL_MAX)
        agent = _agent_name(holder)
        if agent:
            details["software_agent"] = agent
        labels.append(
            ProvenanceLabel(
                code="c2pa_ai",
                source=SOURCE,
                field="digitalSourceType",
                value=clip(value),
                ai_generated=True,
                details=details,
            )
        )
    return labels


def _action_counts(actions: list[str]) -> str:
    """The actions as "c2pa.edited ×13, c2pa.cropped" (first-seen order)."""
    counts: dict[str, int] = {}
    for action in actions:
        counts[action] = counts.get(action, 0) + 1
    return clip(", ".join(a if n == 1 else f"{a} ×{n}" for a, n in counts.items()), 120)


def _editing_labels(manifest: dict[str, Any], facts: dict[str, Any]) -> list[ProvenanceLabel]:
    """One label per software agent of the manifest's editing actions."""
    groups: dict[tuple[str, str], list[str]] = {}
    for action, agent in _actions(manifest):
        if action in EDITING_ACTIONS:
            key = ("softwareAgent", agent) if agent else ("claim_generator", "")
            groups.setdefault(key, []).append(action)
    labels = []
    for (field, agent), actions in groups.items():
        named = agent or facts.get("claim_generator", "")
        if not named:  # nobody named: the recorded actions are the fact
            field, named = "action", ", ".join(dict.fromkeys(actions))
        labels.append(
            ProvenanceLabel(
                code="editing_software",
                # The source names the recorded actions, which the sentence quotes.
                source=f"{SOURCE}, {_action_counts(actions)}",
                field=field,
                value=clip(named),
                ai_generated=False,
                details={
                    **facts,
                    "actions": list(dict.fromkeys(actions))[:20],
                    "action_count": len(actions),
                },
            )
        )
    return labels


def labels_from_c2pa_store(store: dict[str, Any]) -> list[ProvenanceLabel]:
    """The labels of a C2PA manifest store, as c2pa-python's ``Reader.json()`` gives it:
    ``c2pa_invalid`` when it fails validation, then the active manifest's AI statements and
    editing actions, then the other manifests' AI statements (as ingredients)."""
    if not isinstance(store, dict):
        return []
    manifests = store.get("manifests")
    if not isinstance(manifests, dict):
        return []
    active = store.get("active_manifest")
    active = active if isinstance(active, str) else ""
    validation = _validation(store)
    ordered = _ordered(manifests, active)
    refs = _ingredient_refs(ordered)
    labels: list[ProvenanceLabel] = []
    if validation.invalid:
        manifest = manifests.get(active)
        facts = _manifest_facts(
            active,
            manifest if isinstance(manifest, dict) else {},
            active=True,
            validation=validation,
            refs=refs,
        )
        labels.append(
            ProvenanceLabel(
                code="c2pa_invalid",
                source=SOURCE,
                field="validation_state",
                value=validation.state or "Invalid",
                ai_generated=False,
                details={**facts, "failures": validation.failures},
            )
        )
    for label, manifest in ordered:
        is_active = label == active
        facts = _manifest_facts(label, manifest, active=is_active, validation=validation, refs=refs)
        labels.extend(_ai_labels(manifest, facts))
        if is_active:
            labels.extend(_editing_labels(manifest, facts))
    return labels


@functools.lru_cache(maxsize=4)
def read_trust_anchors(path: str) -> str:
    """The PEM text of a trust-anchor bundle file (``ValueError`` when it holds no
    certificate, ``OSError`` when it cannot be read)."""
    text = Path(path).read_text(encoding="ascii", errors="replace")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(f"{path}: no PEM certificate in this C2PA trust-anchor bundle")
    return text


def _context(trust_anchors: str | None) -> Any:
    import c2pa

    settings: dict[str, Any] = {"verify": dict(_VERIFY)}
    if trust_anchors:
        try:
            trust = {**settings, "trust": {"trust_anchors": trust_anchors}}
            return c2pa.Context(c2pa.Settings.from_dict(trust))
        except Exception:
            # A bad bundle must not silence every credential: read them untrusted.
            logger.warning("provenance: C2PA trust anchors refused", exc_info=True)
    return c2pa.Context(c2pa.Settings.from_dict(settings))


def _read_c2pa_store(
    data: bytes, mime: str, *, trust_anchors: str | None = None
) -> dict[str, Any] | None:
    """The validated manifest store JSON of an embedded C2PA manifest, or None (none, a
    remote one — never fetched — or unreadable)."""
    try:
        import c2pa
    except Exception:  # not installed, or its native library cannot load
        logger.debug("provenance: c2pa-python unavailable", exc_info=True)
        return None
    try:
        with _context(trust_anchors) as context:
            reader = c2pa.Reader.try_create(mime or None, io.BytesIO(data), context=context)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
    except Exception:
        logger.debug("provenance: C2PA manifest unreadable or remote", exc_info=True)
        return None
    return store if isinstance(store, dict) else None


def labels_from_c2pa(
    data: bytes, mime: str, *, trust_anchors: str | None = None
) -> list[ProvenanceLabel]:
    """The labels of a file's embedded C2PA manifest store; [] when it has none.

    ``trust_anchors``: a PEM bundle; a signer chaining to one of them is trusted."""
    # Embedded manifests sit in a JUMBF box labelled "c2pa": skip the costly native reader.
    if b"c2pa" not in data:
        return []
    store = _read_c2pa_store(data, mime, trust_anchors=trust_anchors)
    return labels_from_c2pa_store(store) if store is not None else []
