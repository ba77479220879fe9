"""docs/integrate.md works as written: every shell block runs, in order, with curl
against a live server; the Python verification recipe accepts a real signature."""

from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from api import services, signing
from disputes.models import Dispute
from evidence.models import PackingVideo, ReferencePhoto
from tests.disputes.fixtures import doctored, jpeg_bytes, sample
from tests.evidence.test_services import mp4
from tests.factories import MembershipFactory

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integrate.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def noisy_mp4(seconds: int = 3, fps: int = 10) -> bytes:
    """A video of random noise: barely compressible, so a few MB in a few seconds."""
    import av

    rng = np.random.default_rng(7)
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"crf": "8", "g": str(fps)}
        for _ in range(seconds * fps):
            frame = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


@pytest.mark.integration
def test_every_curl_example_runs_against_a_live_server(live_server, tmp_path, transactional_db):
    member = MembershipFactory()
    token = services.token_create(merchant=member.merchant, actor=member.user, name="guide")
    claim, _ = doctored(sample("coffee"))
    big = noisy_mp4()
    assert len(big) > 2 * 1024 * 1024  # several pieces of 1 MiB
    files = {
        "listing.jpg": jpeg_bytes(sample("coffee")),
        "listing-side.jpg": jpeg_bytes(sample("chelsea")),
        "ORDER-1001.mp4": mp4(seconds=3),
        "big-pack.mp4": big,
        "buyer-photo-1.jpg": jpeg_bytes(claim),
        "buyer-photo-2.jpg": jpeg_bytes(sample("rocket")),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    shell = [b for b in blocks("sh") if "export RG=" not in b]
    assert len(shell) >= 8
    script = "set -euo pipefail\n" + "\n".join(shell)
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env={**os.environ, "RG": live_server.url, "TOKEN": token.secret},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "needs_review high" in result.stdout
    assert re.search(rf"(?i)upload-offset: {len(big)}", result.stdout)
    assert ReferencePhoto.objects.filter(merchant=member.merchant).count() == 2
    videos = PackingVideo.objects.filter(merchant=member.merchant)
    assert sorted(videos.values_list("order_ref", flat=True)) == ["ORDER-1001", "ORDER-1002"]
    dispute = Dispute.objects.get(merchant=member.merchant)
    assert dispute.claim_images.count() == 2 and dispute.risk_level == "high"
    assert dispute.merchant_statement == "Our packing video shows the cup intact."
    assert "pack.zip intact" in result.stdout
    assert dispute.packs.get().status == "ready"


def test_the_signature_recipe_accepts_our_signature_and_nothing_else():
    (recipe,) = blocks("python")
    namespace: dict[str, object] = {}
    exec(compile(recipe, str(GUIDE), "exec"), namespace)
    verify = namespace["verify"]
    body = b'{"id":"e1","type":"dispute.decided"}'
    header = signing.signature_header("whsec_test", body)
    assert verify("whsec_test", body, header)  # type: ignore[operator]
    assert not verify("whsec_other", body, header)  # type: ignore[operator]
    assert not verify("whsec_test", body + b" ", header)  # type: ignore[operator]
    stale = signing.signature_header("whsec_test", body, timestamp=1_000_000)
    assert not verify("whsec_test", body, stale)  # type: ignore[operator]
