"""Unit tests of the pure photo engine ``forensics.fingerprints`` (no database)."""

from __future__ import annotations

import io
import re
import struct
import time

import imagehash
import numpy as np
import pytest
from PIL import Image

from forensics import fingerprints as fp
from forensics.errors import MediaRejected
from tests import media_factories as mf

BIG = 50_000_000  # a generous pixel cap for tests that are not about the cap


def inspect(content: bytes, max_pixels: int = BIG) -> fp.PhotoInfo:
    return fp.inspect_photo(io.BytesIO(content), max_pixels=max_pixels)


def analysis(content: bytes, **kwargs) -> Image.Image:
    kwargs.setdefault("max_pixels", BIG)
    return fp.load_analysis_image(io.BytesIO(content), **kwargs)


def hashes(image: Image.Image) -> dict[str, imagehash.ImageHash]:
    return {f.algorithm: imagehash.hex_to_hash(f.hex) for f in fp.perceptual_hashes(image)}


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


# --- inspect_photo: the content allow-list ------------------------------------------


@pytest.mark.parametrize(
    ("make", "fmt", "mime", "extension"),
    [
        (mf.jpeg_bytes, "JPEG", "image/jpeg", "jpg"),
        (mf.png_bytes, "PNG", "image/png", "png"),
        (mf.webp_bytes, "WEBP", "image/webp", "webp"),
        (mf.heic_bytes, "HEIF", "image/heic", "heic"),
        (mf.avif_bytes, "AVIF", "image/avif", "avif"),
    ],
)
def test_inspect_photo_accepts_allowed_formats(make, fmt, mime, extension):
    info = inspect(make(mf.asymmetric(320, 200)))

    assert info == fp.PhotoInfo(fmt, mime, extension, 320, 200)


def test_inspect_photo_reads_from_the_start_of_a_consumed_stream():
    stream = io.BytesIO(mf.png_bytes(mf.asymmetric(320, 200)))
    stream.read()  # e.g. a hash was computed over the upload first

    assert fp.inspect_photo(stream, max_pixels=BIG).width == 320


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF", "AVIF"])
def test_inspect_photo_reports_size_after_exif_orientation(fmt):
    exif = Image.Exif()
    exif[mf.EXIF_ORIENTATION] = 6  # "rotate 90° clockwise to display"
    content = mf.encode(mf.asymmetric(320, 200), fmt, exif=exif.tobytes())

    info = inspect(content)

    assert (info.width, info.height) == (200, 320)


def test_inspect_photo_keeps_size_for_orientation_1():
    info = inspect(mf.jpeg_bytes(mf.asymmetric(320, 200), orientation=1))

    assert (info.width, info.height) == (320, 200)


@pytest.mark.parametrize(
    "content",
    [mf.HTML_AS_JPG, mf.PHP_AS_JPG, mf.PHP_BEHIND_SOI, mf.random_bytes(), b""],
    ids=["html", "php", "php-behind-jpeg-marker", "random-bytes", "zero-bytes"],
)
def test_inspect_photo_rejects_non_images_named_jpg(tmp_path, content):
    path = mf.write(tmp_path, "refund-claim.jpg", content)

    with path.open("rb") as handle, pytest.raises(MediaRejected):
        fp.inspect_photo(handle, max_pixels=BIG)


@pytest.mark.parametrize(
    ("make", "refusal"),
    [
        (mf.gif_bytes, "GIF images are not accepted: send a JPEG, PNG, WebP, HEIC or AVIF photo."),
        (mf.tiff_bytes, "TIFF images are not accepted: send a JPEG, PNG, WebP, HEIC or AVIF"),
        (mf.dng_bytes, "DNG camera raw files are not accepted: send a JPEG, PNG, WebP, HEIC"),
        (mf.bmp_bytes, "This file is not a JPEG, PNG, WebP, HEIC or AVIF photo"),
    ],
    ids=["gif", "tiff", "dng", "bmp"],
)
def test_inspect_photo_rejects_real_images_outside_the_allow_list_in_words(make, refusal):
    content = make(mf.asymmetric())
    assert Image.open(io.BytesIO(content)).size == (320, 200)  # a valid image for Pillow

    with pytest.raises(MediaRejected, match=re.escape(refusal)):
        inspect(content)


@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
def test_a_dng_is_told_from_a_tiff_by_the_tag_in_its_first_directory(order):
    """Hand-made TIFF headers: the DNGVersion tag sits anywhere among the entries."""

    def tiff(tags: list[int]) -> bytes:
        magic = b"II*\x00" if order == "<" else b"MM\x00*"
        entries = b"".join(struct.pack(f"{order}HHII", tag, 1, 4, 0) for tag in tags)
        return magic + struct.pack(f"{order}IH", 8, len(tags)) + entries + b"\x00" * 4

    with pytest.raises(MediaRejected, match=r"^DNG camera raw"):
        inspect(tiff([0x100, 0x101, 0xC612, 0xC614]))
    with pytest.raises(MediaRejected, match=r"^TIFF images"):
        inspect(tiff([0x100, 0x101, 0x8769]))
    with pytest.raises(MediaRejected, match=r"^TIFF images"):  # a directory beyond the end
        inspect((b"II*\x00" if order == "<" else b"MM\x00*") + b"\x7f\x00\x00\x7f")


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.99])
def test_inspect_photo_rejects_truncated_jpeg(keep):
    content = mf.truncated_jpeg(mf.noise(640, 480), keep=keep)
    # The header is intact: only decoding the data reveals the damage.
    assert Image.open(io.BytesIO(content)).size == (640, 480)

    with pytest.raises(MediaRejected, match="damaged or truncated"):
        inspect(content)


def test_inspect_photo_rejects_truncated_big_jpeg_even_in_draft_mode():
    content = mf.truncated_jpeg(mf.noise(2400, 1800), keep=0.95)

    with pytest.raises(MediaRejected):
        inspect(content)


@pytest.mark.parametrize("make", [mf.png_bytes, mf.avif_bytes], ids=["png", "avif"])
def test_inspect_photo_pixel_cap_is_inclusive(make):
    content = make(mf.asymmetric(320, 200))

    assert inspect(content, max_pixels=320 * 200).width == 320
    with pytest.raises(MediaRejected, match="320×200"):
        inspect(content, max_pixels=320 * 200 - 1)


def test_inspect_photo_pixel_cap_applies_below_pillows_own_limit():
    # 3000x3000 = 9 MP, far below Pillow's decompression-bomb limit.
    content = mf.png_bomb(3000, 3000)

    with pytest.raises(MediaRejected, match="3000×3000"):
        inspect(content, max_pixels=8_000_000)


def test_png_bomb_fixture_claims_20000_by_20000(monkeypatch):
    content = mf.png_bomb()
    assert len(content) < 200
    assert struct.unpack(">II", content[16:24]) == (20_000, 20_000)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert Image.open(io.BytesIO(content)).size == (20_000, 20_000)


@pytest.mark.parametrize("engine", ["inspect", "analysis"])
def test_decompression_bomb_png_is_rejected_quickly(engine):
    content = mf.png_bomb(20_000, 20_000)
    call = inspect if engine == "inspect" else analysis
    started = time.perf_counter()

    # Even with a pixel cap that would allow it, Pillow's bomb guard refuses it.
    with pytest.raises(MediaRejected, match="too many pixels"):
        call(content, max_pixels=10**10)

    assert time.perf_counter() - started < 1.0


def test_pillow_decompression_bomb_warning_is_a_rejection():
    # 120 MP is between Pillow's warning (≈89 MP) and error (≈179 MP) thresholds.
    content = mf.png_bomb(10_000, 12_000)

    with pytest.raises(MediaRejected, match="too many pixels"):
        inspect(content, max_pixels=10**10)


# --- load_analysis_image ------------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "transpose", "wrong"),
    [
        (3, Image.Transpose.ROTATE_180, None),
        (6, Image.Transpose.ROTATE_270, Image.Transpose.ROTATE_90),
        (8, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270),
        (2, Image.Transpose.FLIP_LEFT_RIGHT, None),
    ],
)
def test_load_analysis_image_applies_exif_orientation(orientation, transpose, wrong):
    original = mf.asymmetric(320, 200)
    expected = original.transpose(transpose)
    content = mf.jpeg_bytes(original, quality=95, orientation=orientation)

    image = analysis(content)

    assert image.size == expected.size
    assert image.mode == "RGB"
    assert mean_abs_diff(image, expected) < 8
    # The stored pixels as they are, or the opposite rotation, are far away.
    not_expected = original if wrong is None else original.transpose(wrong)
    assert mean_abs_diff(image, not_expected) > 40


def test_load_analysis_image_orientation_6_on_lossless_png_is_exact():
    original = mf.asymmetric(320, 200)
    exif = Image.Exif()
    exif[mf.EXIF_ORIENTATION] = 6
    content = mf.encode(original, "PNG", exif=exif.tobytes())

    image = analysis(content)

    assert np.array_equal(
        np.asarray(image), np.asarray(original.transpose(Image.Transpose.ROTATE_270))
    )


@pytest.mark.parametrize(
    ("make", "size"),
    [
        (mf.png_bytes, (1200, 900)),
        (mf.webp_bytes, (900, 1200)),
        (mf.jpeg_bytes, (1500, 700)),
        (mf.heic_bytes, (800, 600)),
        (mf.avif_bytes, (1000, 750)),
    ],
)
def test_load_analysis_image_caps_long_side(make, size):
    content = make(mf.noise(*size))

    image = analysis(content)

    assert max(image.size) == fp.ANALYSIS_SIDE
    ratio_in, ratio_out = size[0] / size[1], image.width / image.height
    assert ratio_out == pytest.approx(ratio_in, rel=0.01)
    assert image.mode == "RGB"


def test_load_analysis_image_custom_side_and_small_images_untouched():
    content = mf.png_bytes(mf.asymmetric(320, 200))

    assert analysis(content).size == (320, 200)  # never upscaled
    assert analysis(content, side=160).size == (160, 100)


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "LA"])
def test_load_analysis_image_converts_to_rgb(mode):
    content = mf.png_bytes(mf.asymmetric().convert(mode))

    assert analysis(content).mode == "RGB"


def test_load_analysis_image_16_bit_greyscale_png_keeps_its_tones():
    grey8 = mf.asymmetric().convert("L")
    grey16 = Image.fromarray(np.asarray(grey8, np.uint16) * 257)  # mode I;16
    content = mf.png_bytes(grey16)

    image = analysis(content)

    assert mean_abs_diff(image.convert("L"), grey8) < 2


def test_load_analysis_image_rejects_what_inspect_rejects():
    for content in (mf.HTML_AS_JPG, mf.gif_bytes(mf.asymmetric()), mf.truncated_jpeg()):
        with pytest.raises(MediaRejected):
            analysis(content)
    with pytest.raises(MediaRejected):
        analysis(mf.png_bytes(mf.asymmetric(320, 200)), max_pixels=1000)


@pytest.fixture(scope="module")
def big_jpeg() -> tuple[bytes, Image.Image]:
    """A 4000x3000 JPEG (an upscaled photo) and its fully decoded image."""
    content = mf.jpeg_bytes(mf.astronaut().resize((4000, 3000), Image.Resampling.BILINEAR), 85)
    full = Image.open(io.BytesIO(content))
    full.load()
    return content, full


def test_load_analysis_image_uses_draft_mode_for_big_jpeg(big_jpeg, monkeypatch):
    content, full = big_jpeg
    decoded_sizes = []
    real_fit = fp.fit_for_analysis

    def spy(image, **kwargs):
        decoded_sizes.append(image.size)
        return real_fit(image, **kwargs)

    monkeypatch.setattr(fp, "fit_for_analysis", spy)

    image = analysis(content)

    # libjpeg scaled the DCT by 1/8: the decoder never produced the 4000x3000 bitmap,
    # and the 500x375 result needs no resample (it is within DRAFT_SLACK of the side).
    assert image.size == (500, 375)
    (decoded,) = decoded_sizes
    assert decoded == (500, 375)
    assert fp.ANALYSIS_SIDE * fp.DRAFT_SLACK <= max(image.size) <= fp.ANALYSIS_SIDE
    assert imagehash.phash(image) - imagehash.phash(full) <= 2
    assert imagehash.dhash(image) - imagehash.dhash(full) <= 4


def test_inspect_photo_big_jpeg_reports_full_size(big_jpeg):
    content, _ = big_jpeg

    info = inspect(content)

    assert (info.format, info.width, info.height) == ("JPEG", 4000, 3000)


def test_load_analysis_image_draft_mode_with_orientation(big_jpeg):
    _, full = big_jpeg
    content = mf.jpeg_bytes(full.resize((2000, 1500)), quality=85, orientation=6)

    image = analysis(content)

    # 2000x1500 decodes at 1/4 (500x375), then the EXIF rotation makes it portrait.
    assert image.size == (375, 500)
    expected = fp.fit_for_analysis(full.transpose(Image.Transpose.ROTATE_270)).resize(image.size)
    assert imagehash.phash(image) - imagehash.phash(expected) <= 2


# --- Golden hashes --------------------------------------------------------------------

# Computed once with forensics.fingerprints.library_versions() ==
#   pillow 13.0.0, imagehash 4.3.2, numpy 2.4.6, opencv-python-headless 5.0.0.93,
#   pillow-heif 1.8.1 (scikit-image 0.26.0 for the astronaut photo).
# If one of these changes on a library upgrade, the stored fingerprints need a new
# ALGORITHM_VERSIONS entry and a recompute: do not just update the constants.
GOLDEN = {
    "astronaut": ("c2924c5532bddfc8", "cd8dd91d897293a7"),
    "asymmetric": ("be7eff1d83010305", "3f3f3fffffffffff"),
    "checkerboard": ("8000000000000000", "a55aa55aa55aa55a"),
}
GOLDEN_IMAGES = {
    "astronaut": mf.astronaut,
    "asymmetric": mf.asymmetric,
    "checkerboard": mf.checkerboard,
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_perceptual_hashes(name):
    image = analysis(mf.png_bytes(GOLDEN_IMAGES[name]()))

    found = {f.algorithm: f.hex for f in fp.perceptual_hashes(image)}

    assert (found["phash"], found["dhash"]) == GOLDEN[name]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_fingerprint_hex_matches_imagehash_text(name):
    image = analysis(mf.png_bytes(GOLDEN_IMAGES[name]()))

    found = {f.algorithm: f for f in fp.perceptual_hashes(image)}

    assert found["phash"].hex == str(imagehash.phash(image))
    assert found["dhash"].hex == str(imagehash.dhash(image))
    for fingerprint in found.values():
        assert fingerprint.bits == 64
        assert len(fingerprint.value) == 8
        assert fingerprint.version == fp.ALGORITHM_VERSIONS[fingerprint.algorithm]


def test_library_versions_names_every_dependency():
    versions = fp.library_versions()

    assert set(versions) == {
        "pillow",
        "imagehash",
        "numpy",
        "opencv-python-headless",
        "pillow-heif",
    }
    assert versions["pillow"] == Image.__version__
    assert versions["imagehash"] == imagehash.__version__


# --- Robustness and discrimination ----------------------------------------------------


@pytest.fixture(scope="module")
def astronaut_hashes() -> dict[str, imagehash.ImageHash]:
    return hashes(analysis(mf.png_bytes(mf.astronaut())))


@pytest.mark.parametrize(
    "make",
    [
        lambda: mf.jpeg_bytes(mf.astronaut(300), quality=70),
        lambda: mf.webp_bytes(mf.astronaut(1000), quality=50),
        lambda: mf.heic_bytes(mf.astronaut(), quality=50),
        lambda: mf.avif_bytes(mf.astronaut(), quality=50),
        lambda: mf.jpeg_bytes(mf.astronaut().resize((512, 480)), quality=80),
    ],
    ids=[
        "resize-300-jpeg-q70",
        "upscale-1000-webp-q50",
        "heic-q50",
        "avif-q50",
        "squash-jpeg-q80",
    ],
)
def test_hashes_survive_resize_and_resave(astronaut_hashes, make):
    found = hashes(analysis(make()))

    assert found["phash"] - astronaut_hashes["phash"] <= 6
    assert found["dhash"] - astronaut_hashes["dhash"] <= 8


@pytest.mark.parametrize(
    "make",
    [
        lambda: mf.png_bytes(mf.coffee()),
        lambda: mf.jpeg_bytes(mf.chelsea()),
        lambda: mf.png_bytes(mf.asymmetric()),
    ],
    ids=["coffee", "chelsea", "synthetic"],
)
def test_hashes_of_different_photos_are_far_apart(astronaut_hashes, make):
    found = hashes(analysis(make()))

    assert found["phash"] - astronaut_hashes["phash"] >= 20
    assert found["dhash"] - astronaut_hashes["dhash"] >= 16


# --- ORB features ---------------------------------------------------------------------


def test_orb_features_round_trip():
    image = analysis(mf.png_bytes(mf.astronaut()))
    features = fp.orb_features(image)

    restored = fp.OrbFeatures.from_bytes(features.to_bytes())

    assert 100 < len(features.points) <= fp.ORB_FEATURES
    assert features.points.shape == (len(features.points), 4)
    assert features.descriptors.shape == (len(features.points), 32)
    assert restored.points.dtype == np.float32
    assert restored.descriptors.dtype == np.uint8
    assert np.array_equal(restored.points, features.points)
    assert np.array_equal(restored.descriptors, features.descriptors)
    assert restored.image_size == (512, 512)
    # Keypoints lie inside the analysis image.
    assert (restored.points[:, 0] < 512).all()
    assert (restored.points[:, 1] < 512).all()


def test_orb_features_respects_n_features():
    image = analysis(mf.png_bytes(mf.astronaut()))

    assert 0 < len(fp.orb_features(image, n_features=50).points) <= 50


def test_orb_features_of_blank_image_is_empty():
    features = fp.orb_features(mf.blank(300, 200))

    assert features.points.shape == (0, 4)
    assert features.descriptors.shape == (0, 32)
    assert features.image_size == (300, 200)
    restored = fp.OrbFeatures.from_bytes(features.to_bytes())
    assert restored.points.shape == (0, 4)
    assert restored.descriptors.shape == (0, 32)
    assert restored.image_size == (300, 200)


def test_fingerprint_image_bundles_every_algorithm():
    image = analysis(mf.png_bytes(mf.astronaut()))

    by_algorithm = {f.algorithm: f for f in fp.fingerprint_image(image)}

    assert set(by_algorithm) == set(fp.ALGORITHM_VERSIONS)
    assert by_algorithm["phash"].hex == GOLDEN["astronaut"][0]
    orb = fp.OrbFeatures.from_bytes(by_algorithm["orb"].value)
    assert np.array_equal(orb.descriptors, fp.orb_features(image).descriptors)


# --- Thumbnails -----------------------------------------------------------------------


def test_thumbnail_jpeg_is_a_small_jpeg():
    content = fp.thumbnail_jpeg(mf.noise(900, 600).convert("RGBA"), side=300)

    thumb = Image.open(io.BytesIO(content))
    assert thumb.format == "JPEG"
    assert thumb.size == (300, 200)


# --- progressive JPEG "scan bombs" -----------------------------------------------------


def _scan_bomb(scans: int, side: int = 512) -> bytes:
    """A progressive JPEG whose last scan is repeated until it has ``scans`` scans.

    libjpeg walks every block of the picture once per scan, so a small file with
    thousands of scans costs minutes of CPU; the repeats only warn inside libjpeg.
    """
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90, progressive=True)
    data = buffer.getvalue()
    last_scan = data.rindex(b"\xff\xda")
    body, tail = data[last_scan:-2], data[-2:]
    have = fp.jpeg_scan_count(data, stop_after=10_000)
    return data[:-2] + body * (scans - have) + tail


def test_jpeg_scan_count_reads_baseline_progressive_and_exif_thumbnails():
    image = mf.astronaut()
    baseline = mf.jpeg_bytes(image)
    assert fp.jpeg_scan_count(baseline, stop_after=100) == 1
    progressive = io.BytesIO()
    image.save(progressive, "JPEG", progressive=True, optimize=True)
    assert 2 <= fp.jpeg_scan_count(progressive.getvalue(), stop_after=100) <= fp.MAX_JPEG_SCANS
    # A thumbnail is a whole JPEG inside an APP segment; its scan is not the photo's.
    thumb = io.BytesIO()
    image.resize((160, 120)).save(thumb, "JPEG")
    app1 = b"Exif\x00\x00" + thumb.getvalue()
    with_thumb = baseline[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + baseline[2:]
    assert fp.jpeg_scan_count(with_thumb, stop_after=100) == 1
    assert fp.jpeg_scan_count(b"\xff\xd8", stop_after=100) == 0  # malformed: no raise


def test_a_progressive_jpeg_within_the_scan_cap_is_accepted():
    bomb = _scan_bomb(fp.MAX_JPEG_SCANS)
    assert inspect(bomb).format == "JPEG"


def test_a_jpeg_scan_bomb_is_refused_before_decoding():
    bomb = _scan_bomb(fp.MAX_JPEG_SCANS + 1)
    with pytest.raises(MediaRejected, match=f"more than {fp.MAX_JPEG_SCANS} scans"):
        inspect(bomb)
    with pytest.raises(MediaRejected, match="scans"):
        fp.load_analysis_image(io.BytesIO(_scan_bomb(2_000)), max_pixels=BIG)


@pytest.mark.parametrize("size", [(1, 1), (1, 20000), (65000, 1), (15, 400), (40, 1300)])
def test_too_small_or_too_thin_images_are_refused_in_words(size):
    png = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(png, "PNG")
    with pytest.raises(MediaRejected, match="too small or too thin"):
        inspect(png.getvalue())


@pytest.mark.parametrize("size", [(16, 16), (1080, 20000), (300, 40)])
def test_small_photos_and_long_screenshots_are_accepted(size):
    png = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(png, "PNG")
    assert inspect(png.getvalue()).width == size[0]


def test_a_damaged_avif_is_refused_in_words_not_with_the_decoders_error():
    """libavif raises RuntimeError on damaged colour planes (found by the hostile-upload
    benchmark): a refusal, never a 500 nor the library's text."""
    from skimage import data as skdata

    buffer = io.BytesIO()
    Image.fromarray(skdata.astronaut()).save(buffer, "AVIF", quality=60)
    damaged = bytearray(buffer.getvalue())
    start = int(len(damaged) * 0.7)
    damaged[start : start + 300] = b"\xff" * 300
    with pytest.raises(RuntimeError):  # what Pillow's AVIF decoder does with it
        Image.open(io.BytesIO(bytes(damaged))).load()

    with pytest.raises(MediaRejected) as refused:
        inspect(bytes(damaged))
    assert "Decoding" not in str(refused.value) and "damaged" in str(refused.value)
