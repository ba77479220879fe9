"""The one analysis every caller runs: ``forensics.pipeline.analyse_claim``."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skdata

from forensics.errors import MediaRejected
from forensics.original_index import OriginalIndex
from forensics.pipeline import ClaimContext, analyse_claim
from forensics.scoring import Signal
from tests.forensics.engine_images import bbox, indexed, iou, label_product, paint_damage

ROOT = Path(__file__).resolve().parents[2]


def jpeg(image: Image.Image, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **save)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def shop() -> OriginalIndex:
    return OriginalIndex(
        [
            indexed("photo:1", label_product(), label="MUG-1 / front.jpg"),
            indexed("photo:2", Image.fromarray(skdata.rocket()), label="ROCKET / side.jpg"),
            indexed("keyframe:9", Image.fromarray(skdata.chelsea()), kind="keyframe"),
        ]
    )


def test_a_doctored_listing_photo_is_derived_with_region_heatmap_and_aligned_original(shop):
    painted, mask = paint_damage(label_product(), (200, 200))

    analysis = analyse_claim(jpeg(painted), shop)

    assert analysis.is_derived and analysis.original is not None
    assert analysis.original.key == "photo:1"
    assert analysis.verdict.flagged and analysis.verdict.level == "high"
    top = analysis.verdict.reasons[0]
    assert top.code == "derived_from_original" and "MUG-1 / front.jpg" in top.message
    assert analysis.region is not None and iou(analysis.region, bbox(mask)) > 0.5
    assert analysis.heatmap is not None and analysis.heatmap.size == analysis.claim.size
    assert analysis.aligned_original is not None
    assert analysis.aligned_original.size == analysis.claim.size
    assert analysis.claim_size == painted.size and len(analysis.phash) == 8


def test_a_photo_that_matches_nothing_says_so_and_has_nothing_to_show(shop):
    analysis = analyse_claim(jpeg(Image.fromarray(skdata.astronaut())), shop)

    assert not analysis.verdict.flagged
    assert analysis.verdict.reasons[0].code == "no_match"
    assert analysis.region is None and analysis.heatmap is None
    assert analysis.aligned_original is None


def test_a_packing_video_still_is_named_as_a_frame(shop):
    painted, _ = paint_damage(Image.fromarray(skdata.chelsea()), (150, 150))

    analysis = analyse_claim(jpeg(painted), shop)

    assert analysis.original is not None and analysis.original.kind == "keyframe"
    assert "frame" in analysis.verdict.reasons[0].message


def test_platform_signals_get_the_claims_phash_and_count_in_the_verdict(shop):
    seen: list[bytes] = []

    def reused(phash: bytes) -> list[Signal]:
        seen.append(phash)
        return [Signal("reused_image", 0.6, "The same picture is in 2 other disputes.")]

    photo = jpeg(Image.fromarray(skdata.astronaut()))
    alone = analyse_claim(photo, shop)
    analysis = analyse_claim(photo, shop, context=ClaimContext(platform_signals=reused))

    assert seen == [analysis.phash]
    assert "reused_image" in [s.code for s in analysis.verdict.reasons]
    assert analysis.verdict.score > alone.verdict.score


def test_the_region_is_in_the_oriented_claims_pixels(shop):
    """A phone photo stored sideways with EXIF orientation 6: sizes and the region are
    those of the picture as shown, not as stored."""
    painted, mask = paint_damage(label_product(), (200, 120))
    stored = painted.transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6

    analysis = analyse_claim(jpeg(stored, exif=exif.tobytes()), shop)

    assert analysis.claim_size == painted.size
    assert analysis.region is not None and iou(analysis.region, bbox(mask)) > 0.5


def test_a_file_that_is_not_a_photo_is_refused(shop):
    with pytest.raises(MediaRejected):
        analyse_claim(b"<html>not a photo</html>", shop)


def test_nothing_outside_the_pipeline_reassembles_the_chain():
    """The claim lookup and the verdict are called by the pipeline alone (the engine's
    own modules and their tests aside), so a caller cannot drift from the product."""
    allowed = {ROOT / "forensics" / "pipeline.py", ROOT / "forensics" / "matching.py"}
    offenders = []
    for folder in ["forensics", "disputes", "evidence", "packs", "api", "benchmarks", "core"]:
        for path in (ROOT / folder).rglob("*.py"):
            if path in allowed:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                    if name in {"claim_match", "verdict", "match_signal"}:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert offenders == []
