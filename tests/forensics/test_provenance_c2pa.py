"""C2PA content credentials are validated, and the active manifest speaks.

Real files: the C2PA project's public test fixtures in ``../shared/datasets/c2pa`` (read
in place, never copied; see the README there for what each one is). Generated cases are
signed here with a throw-away CA (``test_provenance._signer_and_anchor``).
"""

from __future__ import annotations

import copy
import http.server
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forensics.original_index import OriginalIndex
from forensics.pipeline import ClaimContext, analyse_claim
from forensics.provenance import ProvenanceLabel, labels_from_c2pa_store, read_provenance
from forensics.provenance.content_credentials import _read_c2pa_store
from forensics.scoring import Signal, verdict
from forensics.signals import provenance_signals
from tests.forensics.test_provenance import IPTC, _jpeg, _signer_and_anchor

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("REFUNDGUARD_DATASETS") or ROOT.parent / "shared" / "datasets")
FIXTURES = DATASETS / "c2pa"


def fixture(name: str) -> bytes:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"C2PA fixture {path} absent (see ../shared/datasets/README.md)")
    return path.read_bytes()


def c2pa_labels(labels: list[ProvenanceLabel], code: str | None = None) -> list[ProvenanceLabel]:
    return [
        label
        for label in labels
        if label.source.startswith("C2PA manifest") and (code is None or label.code == code)
    ]


def only(labels: list[ProvenanceLabel], code: str) -> ProvenanceLabel:
    (label,) = c2pa_labels(labels, code)
    return label


def signal(labels: list[ProvenanceLabel], code: str) -> Signal:
    (found,) = [s for s in provenance_signals(labels) if s.code == code]
    return found


def signed(source_type: str, *, actions: list[dict[str, Any]] | None = None) -> tuple[bytes, str]:
    """A JPEG signed with a fresh test CA whose manifest records ``actions`` (by default
    one ``c2pa.created`` with ``source_type``), and the CA's PEM."""
    import c2pa

    signer, anchor = _signer_and_anchor()
    manifest = {
        "claim_generator_info": [{"name": "RefundGuard test generator", "version": "1.0"}],
        "title": "signed.jpg",
        "format": "image/jpeg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": actions
                    or [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": IPTC + source_type,
                            "softwareAgent": {"name": "Imaginary Diffusion", "version": "2"},
                        }
                    ]
                },
            }
        ],
    }
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(signer, "image/jpeg", io.BytesIO(_jpeg()), out)
    return out.getvalue(), anchor


# ------------------------------------------------------------------- the real fixtures


def test_a_valid_credential_with_no_ai_term_and_no_edit_says_nothing() -> None:
    # C.jpg: Valid, created by a test tool with IPTC algorithmicMedia (a gradient: no
    # trained model), so neither an AI label nor an edit.
    labels = read_provenance(fixture("C.jpg"))

    assert c2pa_labels(labels) == []


def test_the_active_manifests_own_ai_statement_is_quoted_and_the_ingredient_named() -> None:
    data = fixture("ocsp.jpg")

    labels = c2pa_labels(read_provenance(data), "c2pa_ai")

    active, ingredient = labels
    assert active.value == IPTC + "compositeWithTrainedAlgorithmicMedia"
    assert active.details["manifest_role"] == "active"
    assert active.details["software_agent"] == "Adobe Firefly"
    assert active.details["claim_generator"].startswith("Adobe Photoshop")
    assert active.details["validation_state"] == "Valid"
    assert active.details["signer_trusted"] is False
    assert ingredient.value == IPTC + "trainedAlgorithmicMedia"
    assert ingredient.details["manifest_role"] == "ingredient"
    assert ingredient.details["ingredient_title"] == "ocsp.jpg"
    assert "Firefly" in ingredient.details["claim_generator"]
    # The finding is the active manifest's statement, at full weight, quoting its tool.
    found = signal(labels, "ai_provenance")
    assert found.weight == 0.9
    assert "compositeWithTrainedAlgorithmicMedia" in found.message
    assert "“Adobe Firefly” as the tool" in found.message
    assert "“Adobe C2PA (Adobe Inc.)”, not on a trust list." in found.message


def test_the_same_file_gives_the_same_labels_on_every_read() -> None:
    data = fixture("ocsp.jpg")

    reads = [[label.as_dict() for label in read_provenance(data)] for _ in range(10)]

    assert all(read == reads[0] for read in reads)
    messages = {tuple(s.message for s in provenance_signals(read_provenance(data)))}
    assert len(messages) == 1


def test_an_ingredients_ai_statement_is_named_as_such_and_weighs_less() -> None:
    store = _read_c2pa_store(fixture("ocsp.jpg"), "image/jpeg")
    assert store is not None
    # The same store with the active manifest's own AI statements taken out.
    quiet = copy.deepcopy(store)
    for assertion in quiet["manifests"][quiet["active_manifest"]]["assertions"]:
        for action in assertion.get("data", {}).get("actions", []):
            action.pop("digitalSourceType", None)

    found = signal(labels_from_c2pa_store(quiet), "ai_provenance")

    assert found.weight == 0.6
    assert "made from an AI-generated ingredient, “ocsp.jpg”" in found.message
    assert "trainedAlgorithmicMedia" in found.message


@pytest.mark.parametrize(
    ("name", "codes", "words"),
    [
        (
            "XCA.jpg",
            ["assertion.dataHash.mismatch"],
            "the image was changed after it was signed (assertion.dataHash.mismatch)",
        ),
        (
            "E-sig-CA.jpg",
            ["claimSignature.mismatch"],
            "its signature does not match what it says (claimSignature.mismatch)",
        ),
        (
            "adobe-20220124-E-clm-CAICAI.jpg",
            ["ingredient.manifest.missing", "assertion.hashedURI.mismatch"],
            "the credential of an ingredient it names is missing (ingredient.manifest.missing) "
            "and a statement in it was changed after it was signed "
            "(assertion.hashedURI.mismatch)",
        ),
        (
            "malformed_cbor.jpg",
            ["assertion.required.missing"],
            "it is malformed and cannot be read in full (assertion.required.missing)",
        ),
    ],
    ids=["tampered-data-hash", "signature-mismatch", "ingredient-missing", "malformed"],
)
def test_an_invalid_credential_is_a_finding_with_its_failures_in_words(
    name: str, codes: list[str], words: str
) -> None:
    labels = read_provenance(fixture(name))

    invalid = only(labels, "c2pa_invalid")
    assert invalid.details["validation_state"] == "Invalid"
    assert [f["code"] for f in invalid.details["failures"]] == codes
    found = signal(labels, "credentials_invalid")
    assert found.weight == 0.35
    assert found.message.startswith(
        f"The file's C2PA content credential fails validation: {words}. "
        "Nothing it states about the image can be trusted."
    )
    # No trust list is configured: said in words, never listed as a failure.
    assert "signingCredential.untrusted" not in found.message


def test_an_untrusted_signer_is_said_in_words_never_a_failure() -> None:
    labels = read_provenance(fixture("XCA.jpg"))

    found = signal(labels, "credentials_invalid")

    assert found.message.endswith(
        " Signed by “C2PA Signer (C2PA Test Signing Cert)”, not on a trust list."
    )


def test_a_recorded_photoshop_edit_is_an_editing_finding_naming_photoshop() -> None:
    labels = read_provenance(fixture("verify.jpeg"))

    edit = only(labels, "editing_software")
    assert edit.field == "claim_generator"  # Photoshop's actions name no softwareAgent
    assert edit.value.startswith("Adobe Photoshop 23.3.1")
    assert edit.details["actions"] == ["c2pa.edited"]
    assert edit.details["action_count"] == 13
    assert edit.source == "C2PA manifest, c2pa.edited ×13"
    found = signal(labels, "editing_software")
    assert "Adobe Photoshop 23.3.1" in found.message
    assert "c2pa.edited ×13" in found.message
    assert c2pa_labels(labels, "c2pa_ai") == []


def test_actions_of_the_active_manifest_name_their_software_agent() -> None:
    labels = c2pa_labels(read_provenance(fixture("ocsp.jpg")), "editing_software")

    assert [(label.field, label.value, label.details["actions"]) for label in labels] == [
        ("claim_generator", "Adobe Photoshop 26.9.0", ["c2pa.cropped"]),
        ("softwareAgent", "Adobe Firefly", ["c2pa.edited"]),
    ]


@pytest.fixture
def network_trap() -> Iterator[tuple[dict[str, str], list[str]]]:
    """An HTTP(S) proxy that records every request, and an environment pointing at it:
    the native reader's HTTP client goes through it for any fetch."""
    requests: list[str] = []

    class Trap(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(f"GET {self.path}")
            self.send_response(502)
            self.end_headers()

        def do_CONNECT(self) -> None:
            requests.append(f"CONNECT {self.path}")
            self.send_response(502)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = f"http://127.0.0.1:{server.server_address[1]}"
    names = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")
    env = {**os.environ, **dict.fromkeys(names, proxy), "NO_PROXY": "", "no_proxy": ""}
    try:
        yield env, requests
    finally:
        server.shutdown()
        server.server_close()


READ_IN_A_CHILD = """
import json, sys
from forensics.provenance import read_provenance
out = {}
for path in sys.argv[1:]:
    labels = read_provenance(open(path, "rb").read())
    out[path] = [[label.code, label.source] for label in labels]
print(json.dumps(out))
"""

FETCH_IN_A_CHILD = """
import io, sys, c2pa
settings = c2pa.Settings.from_dict({"verify": {"remote_manifest_fetch": True}})
try:
    c2pa.Reader.try_create("image/jpeg", io.BytesIO(open(sys.argv[1], "rb").read()),
                           context=c2pa.Context(settings))
except Exception as exc:
    print(exc)
"""


def test_a_remote_manifest_and_ocsp_are_never_fetched(network_trap) -> None:
    env, requests = network_trap
    cloud, ocsp = str(FIXTURES / "cloud.jpg"), str(FIXTURES / "ocsp.jpg")
    fixture("cloud.jpg")
    # The trap works: a reader allowed to fetch goes through it for cloud.jpg's manifest.
    subprocess.run(
        [sys.executable, "-c", FETCH_IN_A_CHILD, cloud],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert any("cai-manifests.adobe.com" in r for r in requests)
    requests.clear()

    child = subprocess.run(
        [sys.executable, "-c", READ_IN_A_CHILD, cloud, ocsp],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip

    assert requests == []
    found = json.loads(child.stdout)
    # cloud.jpg: only what is local (its XMP/EXIF editor), nothing from the remote manifest.
    assert [code for code, source in found[cloud] if source.startswith("C2PA")] == []
    assert ["c2pa_ai", "C2PA manifest"] in found[ocsp]


def test_the_whole_pipeline_gives_the_right_reasons() -> None:
    empty = OriginalIndex([])

    def reasons(name: str) -> tuple[list[str], str]:
        result = analyse_claim(fixture(name), empty).verdict
        return [str(s.code) for s in result.reasons], result.level

    assert reasons("XCA.jpg") == (["credentials_invalid", "editing_software", "no_match"], "medium")
    assert reasons("E-sig-CA.jpg")[0][0] == "credentials_invalid"
    assert reasons("malformed_cbor.jpg")[0][0] == "credentials_invalid"
    assert reasons("ocsp.jpg") == (["ai_provenance", "editing_software", "no_match"], "high")
    assert reasons("verify.jpeg") == (["editing_software", "no_match"], "low")
    assert reasons("C.jpg") == (["no_match"], "low")


# ---------------------------------------------------------------------- generated cases


def test_trained_model_terms_are_ai_and_algorithmic_media_is_not() -> None:
    found = {}
    for term in (
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "compositeSynthetic",
        "algorithmicMedia",  # IPTC: purely algorithmic, no trained model
        "digitalCapture",
    ):
        data, _ = signed(term)
        labels = c2pa_labels(read_provenance(data), "c2pa_ai")
        found[term] = [label.details["digital_source_type"] for label in labels]

    assert found == {
        "trainedAlgorithmicMedia": ["trainedAlgorithmicMedia"],
        "compositeWithTrainedAlgorithmicMedia": ["compositeWithTrainedAlgorithmicMedia"],
        "compositeSynthetic": ["compositeSynthetic"],
        "algorithmicMedia": [],
        "digitalCapture": [],
    }


def test_a_trust_anchor_bundle_makes_its_signer_trusted() -> None:
    data, anchor = signed("trainedAlgorithmicMedia")
    _, stranger = signed("trainedAlgorithmicMedia")

    trusted = only(read_provenance(data, trust_anchors=anchor), "c2pa_ai")
    untrusted = only(read_provenance(data), "c2pa_ai")
    other_ca = only(read_provenance(data, trust_anchors=stranger), "c2pa_ai")

    assert trusted.details["validation_state"] == "Trusted"
    assert trusted.details["signer_trusted"] is True
    assert untrusted.details["validation_state"] == "Valid"
    assert untrusted.details["signer_trusted"] is False
    assert other_ca.details["signer_trusted"] is False
    assert signal([trusted], "ai_provenance").message.endswith(
        "Signed by “Test AI Generator (RefundGuard Tests)”, on the trust list."
    )
    assert signal([untrusted], "ai_provenance").message.endswith(
        "Signed by “Test AI Generator (RefundGuard Tests)”, not on a trust list."
    )


def test_the_pipeline_passes_the_trust_anchors_on() -> None:
    data, anchor = signed("trainedAlgorithmicMedia")
    context = ClaimContext(c2pa_trust_anchors=anchor)

    result = analyse_claim(data, OriginalIndex([]), context=context).verdict

    top = result.reasons[0]
    assert (str(top.code), top.weight, result.level) == ("ai_provenance", 0.9, "high")
    assert top.message.endswith(", on the trust list.")


def test_a_bundle_the_reader_refuses_still_reads_the_credential_untrusted() -> None:
    data, _ = signed("trainedAlgorithmicMedia")
    junk = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"

    label = only(read_provenance(data, trust_anchors=junk), "c2pa_ai")

    assert label.details["signer_trusted"] is False


def test_an_ai_statement_in_an_invalid_credential_cannot_be_trusted() -> None:
    data, _ = signed("trainedAlgorithmicMedia")
    sos = data.rindex(b"\xff\xda")
    tampered = bytearray(data)
    for i in range(sos + 200, sos + 220):
        tampered[i] ^= 0x55

    labels = read_provenance(bytes(tampered))
    signals = provenance_signals(labels)

    ai = next(s for s in signals if s.code == "ai_provenance")
    assert ai.weight == 0.6
    assert ai.message.endswith(
        "This statement cannot be trusted, because the credential fails validation: "
        "the image was changed after it was signed (assertion.dataHash.mismatch). "
        "Signed by “Test AI Generator (RefundGuard Tests)”, not on a trust list."
    )
    # Flagged for a person, not "high" on an untrustworthy statement alone.
    result = verdict(signals)
    assert result.flagged and result.level == "medium"
    assert [str(s.code) for s in result.reasons] == ["ai_provenance", "credentials_invalid"]


def test_editing_actions_name_their_agent_and_other_actions_are_no_edit() -> None:
    data, _ = signed(
        "",
        actions=[
            {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"},
            {"action": "c2pa.resized"},
            {"action": "c2pa.filtered", "softwareAgent": {"name": "Meitu", "version": "10.1"}},
            {"action": "c2pa.color_adjustments", "softwareAgent": {"name": "Meitu"}},
            {"action": "c2pa.cropped"},
        ],
    )

    labels = c2pa_labels(read_provenance(data), "editing_software")

    assert [(label.field, label.value, label.details["actions"]) for label in labels] == [
        ("softwareAgent", "Meitu 10.1", ["c2pa.filtered"]),
        ("softwareAgent", "Meitu", ["c2pa.color_adjustments"]),
        ("claim_generator", "RefundGuard test generator 1.0", ["c2pa.cropped"]),
    ]
