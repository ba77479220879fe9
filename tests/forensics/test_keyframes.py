"""Unit tests of the pure video engine ``forensics.keyframes`` (no database).

The videos are encoded on the fly with PyAV: 25 fps with a key frame every 25 frames
(scene-cut detection off), so the key frames sit exactly at 0, 1, 2 … seconds.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from forensics import keyframes as fr
from forensics.errors import MediaRejected
from forensics.fingerprints import fit_for_analysis, perceptual_hashes
from forensics.original_index import OriginalIndex
from forensics.pipeline import analyse_claim
from tests import media_factories as mf
from tests.forensics.engine_images import indexed, paint_damage

MP4_CONTAINER = "mov,mp4,m4a,3gp,3g2,mj2"


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    """Every fixture video of the module, encoded once (≈0.3 s in all)."""
    root = tmp_path_factory.mktemp("videos")
    h264 = mf.mp4_h264(root, seconds=6)
    webm = mf.webm_vp9(root, seconds=6)
    return {
        "h264": h264,
        "h264_bframes": mf.mp4_h264(root, "bframes.mp4", seconds=6, bframes=3),
        "mpeg4": mf.mp4_mpeg4(root, seconds=3),
        "webm": webm,
        "large": mf.mp4_h264(root, "large.mp4", seconds=2, width=640, height=480),
        "long": mf.mp4_h264(root, "long.mp4", seconds=130, fps=1, gop=10, width=64, height=48),
        "audio": mf.audio_only_mp4(root),
        "truncated_mp4": mf.truncated_copy(h264, root / "truncated.mp4", 0.6),
        "corrupt_mp4": mf.corrupt_copy(h264, root / "corrupt.mp4"),
        "corrupt_webm": mf.corrupt_copy(webm, root / "corrupt.webm"),
        "zero": mf.write(root, "empty.mp4", b""),
        "html": mf.write(root, "upload.mp4", mf.HTML_AS_JPG),
        "random": mf.write(root, "random.mp4", mf.random_bytes(20_000)),
        "jpeg": mf.write(root, "photo.mp4", mf.jpeg_bytes(mf.astronaut())),
    }


def key_packet_times(path: Path) -> list[float]:
    """Timestamps of the packets the container flags as key frames (ground truth)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(
            round(float(packet.pts * packet.time_base), 3)
            for packet in container.demux(stream)
            if packet.is_keyframe and packet.pts is not None
        )


def keyframes(source, **kwargs) -> list[fr.Keyframe]:
    kwargs.setdefault("per_minute", 1000)
    kwargs.setdefault("min_spacing_seconds", 0)
    return list(fr.extract_keyframes(source, **kwargs))


def times(found: list[fr.Keyframe]) -> list[float]:
    return [k.t_seconds for k in found]


# --- probe_video ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "container", "mime", "extension", "codec", "duration"),
    [
        ("h264", MP4_CONTAINER, "video/mp4", "mp4", "h264", 6.0),
        ("h264_bframes", MP4_CONTAINER, "video/mp4", "mp4", "h264", 6.0),
        ("mpeg4", MP4_CONTAINER, "video/mp4", "mp4", "mpeg4", 3.0),
        ("webm", "matroska,webm", "video/webm", "webm", "vp9", 6.0),
    ],
)
def test_probe_video_identifies_accepted_videos(
    videos, name, container, mime, extension, codec, duration
):
    info = fr.probe_video(str(videos[name]), max_seconds=600)

    assert info == fr.VideoInfo(container, mime, extension, codec, 160, 120, duration)


def test_probe_video_reads_a_file_object_from_its_start(videos):
    stream = io.BytesIO(videos["webm"].read_bytes())
    stream.read()

    info = fr.probe_video(stream, max_seconds=600)

    assert (info.codec, info.width, info.height) == ("vp9", 160, 120)


def test_probe_video_reports_the_picture_size(videos):
    info = fr.probe_video(str(videos["large"]), max_seconds=600)

    assert (info.width, info.height, info.duration_seconds) == (640, 480, 2.0)


@pytest.mark.parametrize(
    "name", ["zero", "html", "random", "truncated_mp4", "corrupt_mp4", "corrupt_webm"]
)
def test_probe_video_rejects_unreadable_files(videos, name):
    with pytest.raises(MediaRejected, match="not a video we can read"):
        fr.probe_video(str(videos[name]), max_seconds=600)


def test_probe_video_refuses_a_still_image_before_ffmpeg_reads_it(videos):
    with pytest.raises(MediaRejected, match="not a video we can read"):
        fr.probe_video(str(videos["jpeg"]), max_seconds=600)


def test_probe_video_rejects_audio_only_mp4(videos):
    with av.open(str(videos["audio"])) as container:  # the fixture really is audio-only
        assert container.streams.audio and not container.streams.video

    with pytest.raises(MediaRejected, match="no video track"):
        fr.probe_video(str(videos["audio"]), max_seconds=600)


def test_probe_video_enforces_max_seconds(videos):
    assert fr.probe_video(str(videos["h264"]), max_seconds=6).duration_seconds == 6.0

    with pytest.raises(MediaRejected, match="limit"):
        fr.probe_video(str(videos["h264"]), max_seconds=5.5)
    with pytest.raises(MediaRejected, match="limit"):
        fr.probe_video(str(videos["long"]), max_seconds=120)


# --- extract_keyframes ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["h264", "h264_bframes", "mpeg4"])
def test_extract_keyframes_yields_only_key_frames(videos, name):
    expected = key_packet_times(videos[name])
    assert expected == [float(s) for s in range(len(expected))]  # the fixture's GOP

    found = keyframes(str(videos[name]))

    assert times(found) == expected


def test_extract_keyframes_images_are_the_frames_at_their_timestamps(videos):
    found = keyframes(str(videos["h264"]))

    for keyframe in found:
        assert isinstance(keyframe.image, Image.Image)
        assert keyframe.image.mode == "RGB"
        assert keyframe.image.size == (160, 120)
        picture = np.asarray(keyframe.image, np.int16)
        index = round(keyframe.t_seconds * 25)
        errors = {
            i: np.abs(picture - mf.frame_picture(i, 160, 120).astype(np.int16)).mean()
            for i in (index - 1, index, index + 1)
            if i >= 0
        }
        assert min(errors, key=errors.get) == index


def test_extract_keyframes_yields_only_key_frames_of_vp9_webm(videos):
    expected = key_packet_times(videos["webm"])
    assert expected == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]

    assert times(keyframes(str(videos["webm"]))) == expected


def test_extract_keyframes_webm_yields_pictures(videos):
    found = keyframes(str(videos["webm"]), min_spacing_seconds=1)

    assert found[0].t_seconds == 0.0
    assert all(k.image.size == (160, 120) and k.image.mode == "RGB" for k in found)
    assert all(b.t_seconds - a.t_seconds >= 1 for a, b in itertools.pairwise(found))


@pytest.mark.parametrize(
    ("spacing", "expected"),
    [
        (0, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
        (1, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
        (1.5, [0.0, 2.0, 4.0]),
        (2.5, [0.0, 3.0]),
        (10, [0.0]),
    ],
)
def test_extract_keyframes_min_spacing(videos, spacing, expected):
    assert times(keyframes(str(videos["h264"]), min_spacing_seconds=spacing)) == expected


def test_extract_keyframes_per_minute_cap_in_a_short_video(videos):
    assert times(keyframes(str(videos["h264"]), per_minute=3)) == [0.0, 1.0, 2.0]


def test_extract_keyframes_per_minute_cap_restarts_every_minute(videos):
    everything = times(keyframes(str(videos["long"])))
    assert everything == [float(t) for t in range(0, 130, 10)]

    capped = times(keyframes(str(videos["long"]), per_minute=2))

    assert capped == [0.0, 10.0, 60.0, 70.0, 120.0]


def test_extract_keyframes_spacing_and_cap_combine(videos):
    found = keyframes(str(videos["long"]), per_minute=2, min_spacing_seconds=25)

    assert times(found) == [0.0, 30.0, 60.0, 90.0, 120.0]


@pytest.mark.parametrize(("max_side", "size"), [(100, (100, 75)), (480, (480, 360))])
def test_extract_keyframes_max_side(videos, max_side, size):
    found = keyframes(str(videos["large"]), max_side=max_side)

    assert times(found) == [0.0, 1.0]
    assert all(k.image.size == size for k in found)


def test_extract_keyframes_never_upscales(videos):
    found = keyframes(str(videos["large"]))

    assert {k.image.size for k in found} == {(640, 480)}  # under KEYFRAME_SIDE


def test_extract_keyframes_from_a_file_object(videos):
    stream = io.BytesIO(videos["h264"].read_bytes())
    stream.seek(100)

    assert times(keyframes(stream, min_spacing_seconds=2)) == [0.0, 2.0, 4.0]


@pytest.mark.parametrize(
    "name", ["zero", "html", "random", "truncated_mp4", "corrupt_mp4", "corrupt_webm", "audio"]
)
def test_extract_keyframes_rejects_bad_files(videos, name):
    with pytest.raises(MediaRejected):
        keyframes(str(videos[name]))


def test_extract_keyframes_survives_a_video_damaged_mid_stream(videos, tmp_path):
    content = bytearray(videos["h264"].read_bytes())
    start, end = int(len(content) * 0.2), int(len(content) * 0.6)
    content[start:end] = mf.random_bytes(end - start, seed=7)
    damaged = mf.write(tmp_path, "damaged.mp4", bytes(content))
    # The index (moov, at the end) is intact, so the file still opens and its first
    # frame decodes.
    assert fr.probe_video(str(damaged), max_seconds=600).codec == "h264"
    # Only key-frame packets are decoded: the stills come from the key frames the
    # container still flags, each at its own timestamp, and nothing crashes.
    stills = keyframes(str(damaged))
    assert times(stills) == key_packet_times(damaged)
    assert 0 < len(stills) < 6


# --- stills scaled in the decoder -------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "max_side", "size"),
    [
        (1920, 1080, 1280, (1280, 720)),
        (1080, 1920, 1280, (720, 1280)),
        (640, 480, 100, (100, 75)),
        (1281, 3, 1280, (1280, 3)),
        (4000, 1, 1280, (1280, 1)),
        (640, 480, 1280, (640, 480)),
    ],
)
def test_still_size_keeps_the_aspect_and_never_enlarges(width, height, max_side, size):
    assert fr.still_size(width, height, max_side) == size


def _scene() -> Image.Image:
    """A 1920×1080 picture full of fine detail: eight 480×540 crops of scikit-image photos
    at their own resolution (top-left and bottom-right corners of four photos)."""
    scene = Image.new("RGB", (1920, 1080))
    for column, name in enumerate(["astronaut", "coffee", "rocket", "chelsea"]):
        photo = Image.fromarray(getattr(skdata, name)()[..., :3])
        w, h = min(photo.width, 480), min(photo.height, 540)
        scene.paste(photo.crop((0, 0, w, h)), (column * 480, 0))
        scene.paste(
            photo.crop((photo.width - w, photo.height - h, photo.width, photo.height)),
            (column * 480, 540),
        )
    return scene


def _video_of(picture: Image.Image, path: Path, *, seconds: int = 2) -> Path:
    """A 1 fps H.264 video whose every frame (all key frames) shows ``picture``."""
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=1, options={"preset": "ultrafast", "crf": "18"})
        stream.width, stream.height = picture.size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 1
        for i in range(seconds):
            frame = av.VideoFrame.from_image(picture)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_a_1080p_still_is_scaled_in_the_decoder_and_fingerprints_as_before(tmp_path):
    """The still libswscale scales is the 1280 px still a Lanczos resize of the decoded
    frame gave before: close in pixels (an anti-aliased filter; point sampling or
    FAST_BILINEAR alias below 35 dB here), the same perceptual hashes within 2 bits, and a
    doctored copy of the filmed picture is found to derive from the still."""
    scene = _scene()
    video = _video_of(scene, tmp_path / "scene.mp4")

    (still, _) = keyframes(str(video))

    assert still.image.size == (1280, 720) and still.image.mode == "RGB"
    with av.open(str(video)) as container:  # the former path: full RGB frame, then Lanczos
        reference = next(container.decode(video=0)).to_image()
    reference.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
    error = np.asarray(still.image, np.float64) - np.asarray(reference, np.float64)
    assert 10 * np.log10(255**2 / np.mean(error**2)) >= 36  # dB
    ours = perceptual_hashes(fit_for_analysis(still.image))
    before = perceptual_hashes(fit_for_analysis(reference))
    for new, old in zip(ours, before, strict=True):
        differing = np.unpackbits(
            np.frombuffer(new.value, np.uint8) ^ np.frombuffer(old.value, np.uint8)
        )
        assert int(differing.sum()) <= 2, new.algorithm
    index = OriginalIndex(
        [
            indexed("keyframe:1", still.image, kind="keyframe"),
            indexed("photo:2", Image.fromarray(skdata.rocket())),
        ]
    )
    painted, _ = paint_damage(scene.resize((960, 540), Image.Resampling.LANCZOS), (480, 270))
    claim = io.BytesIO()
    painted.save(claim, "JPEG", quality=90)

    analysis = analyse_claim(claim.getvalue(), index)

    assert analysis.is_derived and analysis.original is not None
    assert analysis.original.key == "keyframe:1"
