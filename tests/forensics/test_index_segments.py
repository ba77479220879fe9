"""The stored index: segment files, appending without a rebuild, the coarse shortlist and
the worker's cache bounded by bytes (``forensics.index_segments``,
``forensics.original_index``)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from forensics import matching, original_index
from forensics.fingerprints import fingerprint_image, fit_for_analysis
from forensics.index_segments import (
    SegmentEntry,
    SegmentFormatError,
    read_segment,
    segment_bytes,
)
from forensics.original_index import OriginalIndex, OriginalIndexCache, stored_segment
from tests.forensics.engine_images import as_claim, paint_damage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def entries(originals: dict[str, Image.Image]) -> list[SegmentEntry]:
    found = []
    for key, image in originals.items():
        analysis = fit_for_analysis(image)
        values = {f.algorithm: f.value for f in fingerprint_image(analysis)}
        found.append(
            SegmentEntry(key, values, full_size=image.size, label=f"{key}.jpg", source=key)
        )
    return found


def _stored(tmp_path: Path, name: str, entries: list[SegmentEntry]) -> Path:
    path = tmp_path / name
    path.write_bytes(segment_bytes(stored_segment(entries)))
    return path


def _loader(originals: dict[str, Image.Image]):  # type: ignore[no-untyped-def]
    return lambda source: fit_for_analysis(originals[source])


def _claim_descriptors(originals: dict[str, Image.Image]) -> np.ndarray:
    painted, _ = paint_damage(originals["astronaut"], (330, 300))
    claim, _ = as_claim(painted.crop((60, 40, 480, 470)))
    return matching.orb_features(claim, n_features=matching.CLAIM_FEATURES).descriptors


def test_a_stored_segment_reads_back_as_the_index_built_in_memory(
    tmp_path: Path, entries: list[SegmentEntry], originals: dict[str, Image.Image], index
) -> None:
    stored = OriginalIndex.from_segments(
        [read_segment(_stored(tmp_path, "all.seg", entries))], load=_loader(originals)
    )

    assert len(stored) == len(index) == 4
    for a, b in zip(stored.originals, index.originals, strict=True):
        assert a.key == b.key and a.phash == b.phash and a.dhash == b.dhash
        assert np.array_equal(a.features.descriptors, b.features.descriptors)
        assert np.array_equal(a.features.points, b.features.points)
        assert a.features.image_size == b.features.image_size
    # O(1) lookup by key, the label and sizes as given, pixels through the loader.
    astronaut = stored.original("astronaut")
    assert astronaut.label == "astronaut.jpg" and astronaut.full_size == (512, 512)
    assert astronaut.load_image().size == fit_for_analysis(originals["astronaut"]).size
    assert "astronaut" in stored and "nothing" not in stored
    descriptors = _claim_descriptors(originals)
    assert np.array_equal(stored.votes(descriptors), index.votes(descriptors))


def test_appending_a_segment_keeps_the_others_and_votes_as_one_built_at_once(
    tmp_path: Path, entries: list[SegmentEntry], originals: dict[str, Image.Image]
) -> None:
    load = _loader(originals)
    first = OriginalIndex.from_segments(
        [read_segment(_stored(tmp_path, "a.seg", entries[:2]))], load=load
    )
    tables = first._parts[0].exact

    grown = first.extended(read_segment(_stored(tmp_path, "b.seg", entries[2:])))
    whole = OriginalIndex.from_segments(
        [read_segment(_stored(tmp_path, "all.seg", entries))], load=load
    )

    assert len(first) == 2 and len(grown) == 4  # the first is left as it was
    assert grown._parts[0].exact is tables  # appended, not rebuilt
    assert [o.key for o in grown.originals] == [o.key for o in whole.originals]
    assert grown.original("rocket").key == "rocket"
    descriptors = _claim_descriptors(originals)
    votes = grown.votes(descriptors)
    assert np.array_equal(votes, whole.votes(descriptors))
    assert int(np.argmax(votes)) == grown.position("astronaut")


def test_a_large_segment_is_searched_through_its_coarse_shortlist(
    tmp_path: Path,
    entries: list[SegmentEntry],
    originals: dict[str, Image.Image],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Many originals of another texture around the real ones: the shortlist must still
    # hand the claim's original to the exact vote, and the vote must still pick it.
    rng = np.random.default_rng(5)
    decoys = []
    for i in range(60):
        noise = rng.integers(0, 256, (384, 512, 3), dtype=np.uint8)
        decoy = Image.fromarray(noise).resize((128, 96)).resize((512, 384))
        values = {f.algorithm: f.value for f in fingerprint_image(decoy)}
        decoys.append(SegmentEntry(f"decoy-{i}", values, source="astronaut"))
    monkeypatch.setattr(original_index, "EXACT_VOTE_MAX_DESCRIPTORS", 1000)
    segment = stored_segment(decoys + entries)
    assert len(segment.coarse)  # built with the segment, stored in its file
    path = tmp_path / "large.seg"
    path.write_bytes(segment_bytes(segment))

    stored = OriginalIndex.from_segments([read_segment(path)], load=_loader(originals))

    assert stored._parts[0].exact is None and stored._parts[0].coarse is not None
    votes = stored.votes(_claim_descriptors(originals))
    assert int(np.argmax(votes)) == stored.position("astronaut")
    assert votes[stored.position("astronaut")] > 5 * np.sort(votes)[-2]


def test_a_file_that_is_no_segment_is_refused(tmp_path: Path, entries: list[SegmentEntry]) -> None:
    junk = tmp_path / "junk.seg"
    junk.write_bytes(b"not an index")
    with pytest.raises(SegmentFormatError):
        read_segment(junk)
    cut = tmp_path / "cut.seg"
    cut.write_bytes(_stored(tmp_path, "whole.seg", entries).read_bytes()[:-1000])
    with pytest.raises(SegmentFormatError):
        read_segment(cut)


def test_the_cache_drops_the_least_recently_used_past_its_bytes(
    entries: list[SegmentEntry],
) -> None:
    def index_of(rows: list[SegmentEntry]) -> OriginalIndex:
        return OriginalIndex.from_segments([stored_segment(rows)], load=lambda source: None)  # type: ignore[arg-type,return-value]

    a, b, c = index_of(entries[:1]), index_of(entries[1:2]), index_of(entries[2:3])
    cache = OriginalIndexCache(a.nbytes + b.nbytes + c.nbytes // 2)

    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # now b is the least recently used
    cache.put("c", c)

    assert cache.get("b") is None and cache.get("a") is a and cache.get("c") is c
    assert cache.nbytes <= cache.max_bytes
    tiny = OriginalIndexCache(1)
    tiny.put("a", a)  # larger than the bound alone: still served
    assert tiny.get("a") is a
    tiny.put("b", b)
    assert tiny.get("a") is None and tiny.get("b") is b


def test_an_index_dropped_from_the_cache_is_freed_at_once(
    tmp_path: Path, entries: list[SegmentEntry], originals: dict[str, Image.Image]
) -> None:
    """No reference cycle holds an index: a worker's cache bound is its memory bound only
    if an evicted index is freed when dropped, not when the cyclic collector next runs."""
    index = OriginalIndex.from_segments(
        [read_segment(_stored(tmp_path, "m1", entries))], load=_loader(originals)
    )
    assert index.originals[0].key == entries[0].key  # the view of its originals made
    dropped = weakref.ref(index)
    cache = OriginalIndexCache(1)
    cache.put("m1", index)
    del index

    gc.disable()
    try:
        cache.put("m2", OriginalIndex())
        assert dropped() is None
    finally:
        gc.enable()
