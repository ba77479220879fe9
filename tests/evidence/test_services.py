"""Ingest and processing services: validation leaves nothing behind, duplicates are
recognised, processing is idempotent and records failures."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from skimage import data as samples

from disputes.evidence_index import merchant_index
from evidence import services
from evidence.models import Fingerprint, PackingVideo, ReferencePhoto, VideoKeyframe
from forensics.fingerprints import ALGORITHM_VERSIONS
from forensics.pipeline import analyse_claim
from tests import media_factories as mf
from tests.conftest import stored_bytes_replace, stored_names
from tests.factories import ProductFactory
from tests.forensics.engine_images import bbox, iou, paint_damage


def jpeg(name: str = "coffee", size: tuple[int, int] | None = None) -> bytes:
    image = Image.fromarray(np.asarray(getattr(samples, name)())).convert("RGB")
    if size:
        image = image.resize(size)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def ingest(product, data: bytes, filename: str = "front.jpg"):
    return services.photo_ingest(
        product=product, upload=ContentFile(data, name=filename), filename=filename, uploader=None
    )


@pytest.mark.django_db
def test_photo_is_stored_byte_for_byte_under_a_generated_name(product):
    data = jpeg()
    outcome = ingest(product, data, "sku-123-front.jpg")
    photo = outcome.obj
    assert outcome.status == "stored"
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert photo.size_bytes == len(data)
    assert photo.content_type == "image/jpeg"
    assert photo.original_name == "sku-123-front.jpg"
    assert "sku-123-front" not in photo.file.name
    with default_storage.open(photo.file.name) as fh:
        assert fh.read() == data
    assert photo.status == ReferencePhoto.Status.PENDING


@pytest.mark.django_db
def test_same_bytes_twice_is_a_duplicate_not_a_second_copy(product):
    data = jpeg()
    first = ingest(product, data, "a.jpg")
    other_product = ProductFactory(merchant=product.merchant)
    second = ingest(other_product, data, "b.jpg")
    assert second.status == "duplicate"
    assert second.obj.pk == first.obj.pk
    assert ReferencePhoto.objects.count() == 1
    assert len(stored_names()) == 1


@pytest.mark.django_db
def test_another_merchant_may_store_the_same_bytes(product):
    data = jpeg()
    ingest(product, data)
    outcome = ingest(ProductFactory(), data)
    assert outcome.status == "stored"
    assert ReferencePhoto.objects.count() == 2


BAD_UPLOADS = [
    ("empty.jpg", b"", "empty"),
    ("shell.jpg", b"<?php system($_GET['c']); ?>", "not a JPEG, PNG, WebP, HEIC or AVIF"),
    # Refused formats are named from their bytes, whatever the file is called.
    ("front.jpg", mf.gif_bytes(mf.asymmetric()), "GIF images are not accepted: send a JPEG"),
    ("front.tif", mf.tiff_bytes(mf.asymmetric()), "TIFF images are not accepted: send a JPEG"),
    ("IMG_0001.jpg", mf.dng_bytes(mf.asymmetric()), "DNG camera raw files are not accepted"),
    ("page.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "not a JPEG"),
    ("../../etc/passwd.jpg", None, "contains a path"),
    ("..\\evil.jpg", None, "contains a path"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("filename", "data", "message"), BAD_UPLOADS)
def test_bad_photo_upload_is_refused_and_leaves_nothing(product, filename, data, message):
    with pytest.raises(ValidationError) as excinfo:
        ingest(product, jpeg() if data is None else data, filename)
    assert message in " ".join(excinfo.value.messages)
    assert ReferencePhoto.objects.count() == 0
    assert stored_names() == []


@pytest.mark.django_db
def test_truncated_jpeg_is_refused(product):
    data = jpeg()
    with pytest.raises(ValidationError, match="damaged or truncated"):
        ingest(product, data[: len(data) // 2])
    assert stored_names() == []


@pytest.mark.django_db
def test_size_and_pixel_caps_come_from_settings(product, settings):
    data = jpeg()
    settings.PHOTO_MAX_BYTES = len(data) - 1
    with pytest.raises(ValidationError, match="the limit is"):
        ingest(product, data)
    settings.PHOTO_MAX_BYTES = len(data) * 2
    settings.PHOTO_MAX_PIXELS = 1000
    with pytest.raises(ValidationError, match="megapixels"):
        ingest(product, data)
    assert stored_names() == []


@pytest.mark.django_db
def test_storage_failure_leaves_no_row_and_no_file(product, monkeypatch):
    def broken_create(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ReferencePhoto.objects, "create", broken_create)
    with pytest.raises(OSError, match="disk full"):
        ingest(product, jpeg())
    assert stored_names() == []


@pytest.mark.django_db
def test_fingerprinting_stores_one_row_per_algorithm_and_is_idempotent(product):
    photo = ingest(product, jpeg()).obj
    done = services.photo_fingerprint(photo_id=photo.pk)
    assert done.status == ReferencePhoto.Status.FINGERPRINTED
    rows = {(f.algorithm, f.version): f for f in done.fingerprints.all()}
    assert set(rows) == set(ALGORITHM_VERSIONS.items())
    phash = rows[("phash", ALGORITHM_VERSIONS["phash"])]
    assert phash.bits == 64 and len(phash.hex) == 16
    assert phash.library_versions["pillow"]
    assert default_storage.exists(done.thumbnail.name)
    assert done.thumbnail.name.split("/")[2] == photo.sha256  # derived → original's hash
    ids_before = sorted(Fingerprint.objects.values_list("pk", flat=True))
    services.photo_fingerprint(photo_id=photo.pk)
    assert sorted(Fingerprint.objects.values_list("pk", flat=True)) == ids_before


@pytest.mark.django_db
def test_an_avif_listing_is_stored_and_fingerprinted_and_an_avif_claim_matches_it(product):
    original = Image.fromarray(samples.astronaut())
    outcome = ingest(product, mf.avif_bytes(original, quality=70), "listing.avif")
    photo = outcome.obj
    assert outcome.status == "stored" and photo.content_type == "image/avif"
    assert photo.file.name.endswith(".avif") and (photo.width, photo.height) == (512, 512)
    done = services.photo_fingerprint(photo_id=photo.pk)
    assert done.status == ReferencePhoto.Status.FINGERPRINTED
    assert {(f.algorithm, f.version) for f in done.fingerprints.all()} == set(
        ALGORITHM_VERSIONS.items()
    )
    # The buyer's claim: the listing with a painted crack, stored sideways in an AVIF
    # whose orientation turns it back, analysed against the stored evidence.
    painted, mask = paint_damage(original, (330, 300))
    claim = mf.avif_bytes(painted.transpose(Image.Transpose.ROTATE_90), quality=60, orientation=6)

    analysis = analyse_claim(claim, merchant_index(product.merchant_id).index)

    assert analysis.is_derived and analysis.original is not None
    assert analysis.original.key == f"photo:{photo.pk}"
    assert analysis.claim_size == painted.size
    assert analysis.region is not None and iou(analysis.region, bbox(mask)) >= 0.5


@pytest.mark.django_db
def test_a_photo_whose_stored_file_cannot_be_decoded_ends_failed_with_reason(product):
    photo = ingest(product, jpeg()).obj
    stored_bytes_replace(photo.file.name, b"garbage")  # simulate storage corruption
    done = services.photo_fingerprint(photo_id=photo.pk)
    assert done.status == ReferencePhoto.Status.FAILED
    assert "not a JPEG" in done.failure_reason


def mp4(seconds: int = 4, fps: int = 10) -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.options = {"g": str(fps)}
        for i in range(seconds * fps):
            frame = np.full((120, 160, 3), (i * 7) % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


@pytest.mark.django_db
def test_video_ingest_and_keyframes(membership, settings):
    settings.KEYFRAME_MIN_SPACING_SECONDS = 1.0
    data = mp4(seconds=4)
    outcome = services.video_ingest(
        merchant=membership.merchant,
        order_ref=" ORDER-1 ",
        upload=ContentFile(data, name="ORDER-1.mp4"),
        filename="ORDER-1.mp4",
        uploader=membership.user,
    )
    video = outcome.obj
    assert (video.order_ref, video.codec, video.width, video.height) == (
        "ORDER-1",
        "h264",
        160,
        120,
    )
    assert video.duration_seconds == pytest.approx(4.0, abs=0.2)
    done = services.video_process(video_id=video.pk)
    assert done.status == PackingVideo.Status.READY
    times = list(done.keyframes.values_list("t_seconds", flat=True))
    assert times == [0.0, 1.0, 2.0, 3.0]
    assert Fingerprint.objects.filter(keyframe__video=done, algorithm="phash").count() == 4
    services.video_process(video_id=video.pk)
    assert VideoKeyframe.objects.filter(video=done).count() == 4


@pytest.mark.django_db
def test_fingerprints_carry_their_merchant_and_the_index_signature_counts_only_its_own(
    membership, product, media_root, settings
):
    from disputes.evidence_index import _signature

    settings.KEYFRAME_MIN_SPACING_SECONDS = 1.0
    merchant = membership.merchant
    photo = ingest(product, jpeg()).obj
    services.photo_fingerprint(photo_id=photo.pk)
    video = services.video_ingest(
        merchant=merchant,
        order_ref="ORDER-9",
        upload=ContentFile(mp4(seconds=2), name="ORDER-9.mp4"),
        filename="ORDER-9.mp4",
        uploader=membership.user,
    ).obj
    services.video_process(video_id=video.pk)
    elsewhere = ingest(ProductFactory(), jpeg("astronaut")).obj
    services.photo_fingerprint(photo_id=elsewhere.pk)

    assert set(photo.fingerprints.values_list("merchant_id", flat=True)) == {merchant.pk}
    keyframe_rows = Fingerprint.objects.filter(keyframe__video=video)
    assert set(keyframe_rows.values_list("merchant_id", flat=True)) == {merchant.pk}
    assert set(elsewhere.fingerprints.values_list("merchant_id", flat=True)) == {
        elsewhere.merchant_id
    }
    own_phashes = [
        f.pk for f in [*photo.fingerprints.all(), *keyframe_rows] if f.algorithm == "phash"
    ]
    # The evidence index's "has anything changed" query: this merchant's pHash rows only.
    assert _signature(merchant.pk) == (len(own_phashes), max(own_phashes))
    assert _signature(elsewhere.merchant_id)[0] == 1


@pytest.mark.django_db
def test_corrupt_video_is_refused_at_upload(membership):
    data = mp4()
    with pytest.raises(ValidationError):
        services.video_ingest(
            merchant=membership.merchant,
            order_ref="ORDER-2",
            upload=ContentFile(data[:300], name="x.mp4"),
            filename="x.mp4",
            uploader=None,
        )
    assert PackingVideo.objects.count() == 0
    assert stored_names() == []


@pytest.mark.django_db
def test_video_damaged_in_storage_ends_failed_never_stuck_processing(membership):
    video = services.video_ingest(
        merchant=membership.merchant,
        order_ref="ORDER-3",
        upload=ContentFile(mp4(), name="x.mp4"),
        filename="x.mp4",
        uploader=None,
    ).obj
    stored_bytes_replace(video.file.name, b"\x00" * 1000)
    done = services.video_process(video_id=video.pk)
    assert done.status == PackingVideo.Status.FAILED
    assert done.failure_reason
