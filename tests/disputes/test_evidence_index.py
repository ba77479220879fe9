"""The stored index of a merchant's originals: built once, appended to, merged, cached
(``disputes.evidence_index``)."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from disputes import evidence_index
from disputes.evidence_index import merchant_index, original_index_extend
from disputes.models import OriginalIndexSegment
from tests.disputes.fixtures import product_shot, reference_photo

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def _rows(merchant_id: int) -> list[OriginalIndexSegment]:
    return list(OriginalIndexSegment.objects.filter(merchant_id=merchant_id).order_by("seq"))


def test_the_index_is_built_once_then_new_photos_are_appended(product) -> None:
    first = [reference_photo(product, product_shot(seed), f"p{seed}.jpg") for seed in (1, 2)]

    built = merchant_index(product.merchant_id)

    (row,) = _rows(product.merchant_id)
    assert row.file.startswith(f"indexes/{product.merchant_id}/")
    assert default_storage.exists(row.file) and row.originals == 2
    assert merchant_index(product.merchant_id) is built  # nothing new: the cached one
    ref = built.ref(f"photo:{first[0].pk}")
    assert ref is not None and ref.kind == "photo" and ref.object_id == first[0].pk
    assert ref.label == f"{product.sku} / p1.jpg"

    added = reference_photo(product, product_shot(3), "p3.jpg")
    grown = merchant_index(product.merchant_id)

    rows = _rows(product.merchant_id)
    assert [r.file for r in rows][:1] == [row.file] and len(rows) == 2
    assert rows[1].originals == 1  # only the new photo was written
    assert grown.index._parts[0] is built.index._parts[0]  # appended, not rebuilt
    assert f"photo:{added.pk}" in grown.index and len(grown.index) == 3
    assert built.ref(f"photo:{added.pk}") is None  # the older index was left as it was
    assert original_index_extend(product.merchant_id) == 0  # idempotent


def test_segments_past_the_limit_are_merged_and_the_replaced_files_deleted(
    product, settings, django_capture_on_commit_callbacks
) -> None:
    settings.ORIGINAL_INDEX_MAX_SEGMENTS = 2
    photos = []
    files: set[str] = set()
    for seed in range(1, 5):
        photos.append(reference_photo(product, product_shot(seed), f"p{seed}.jpg"))
        with django_capture_on_commit_callbacks(execute=True):
            assert original_index_extend(product.merchant_id) == 1
        files |= {r.file for r in _rows(product.merchant_id)}

    rows = _rows(product.merchant_id)
    assert len(rows) <= 2 and sum(r.originals for r in rows) == 4
    live = {r.file for r in rows}
    assert all(default_storage.exists(name) for name in live)
    assert not any(default_storage.exists(name) for name in files - live)
    found = merchant_index(product.merchant_id)
    assert sorted(o.key for o in found.index.originals) == sorted(f"photo:{p.pk}" for p in photos)


def test_a_worker_serves_an_index_built_elsewhere_from_storage_alone(
    product, settings, tmp_path
) -> None:
    photo = reference_photo(product, product_shot(7), "p7.jpg")
    original_index_extend(product.merchant_id)  # the task, on another machine
    evidence_index.forget()
    settings.ORIGINAL_INDEX_LOCAL_DIR = tmp_path / "another-worker"

    found = merchant_index(product.merchant_id)

    assert len(_rows(product.merchant_id)) == 1  # loaded, not built again
    assert found.index.original(f"photo:{photo.pk}").features.image_size == (480, 360)
    assert any((tmp_path / "another-worker").rglob("*.seg"))


def test_an_original_is_decoded_once_per_worker_not_once_per_claim(product) -> None:
    photo = reference_photo(product, product_shot(9), "p9.jpg")
    original = merchant_index(product.merchant_id).index.original(f"photo:{photo.pk}")
    first = original.load_image()

    default_storage.delete(photo.file.name)  # the next load cannot have read the file

    again = original.load_image()
    assert again.tobytes() == first.tobytes() and again is not first
