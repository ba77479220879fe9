"""Every AI generator and every editor: each test writes a file the way the tool does
(PNG text chunks, pixel LSBs, EXIF tags, XMP packets), reads it back, and checks the label
and the finding it makes. No database.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile
from PIL.PngImagePlugin import PngInfo
from skimage import data as skdata

from forensics.findings import FindingCode, finding_sentence
from forensics.provenance import ProvenanceLabel, classify_software, read_provenance, stealth
from forensics.signals import provenance_signals

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SD_PARAMETERS = (
    "a cracked ceramic mug on a wooden table\n"
    "Negative prompt: blurry\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567, Size: 768x512"
)
JOB_ID = "0f3c2a1e-9b7d-4c6e-8a5f-1d2e3f4a5b6c"
NOVELAI_COMMENT = {
    "prompt": "a broken vase, best quality",
    "steps": 28,
    "height": 832,
    "width": 1216,
    "scale": 5.0,
    "seed": 3713870330,
    "n_samples": 1,
    "sampler": "k_euler_ancestral",
    "uc": "lowres, bad anatomy",
    "request_type": "PromptGenerateRequest",
}


def _datasets() -> Path:
    """The shared datasets folder (``REFUNDGUARD_DATASETS`` overrides)."""
    override = os.environ.get("REFUNDGUARD_DATASETS")
    return (
        Path(override) if override else Path(__file__).resolve().parents[3] / "shared" / "datasets"
    )


# --------------------------------------------------------------------------- file makers


def _photo(size: tuple[int, int] = (160, 120)) -> Image.Image:
    return Image.fromarray(skdata.astronaut()).resize(size)


def _png(info: PngInfo | None = None, image: Image.Image | None = None) -> bytes:
    buf = io.BytesIO()
    (image or _photo()).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def _png_text(**chunks: str) -> bytes:
    info = PngInfo()
    for keyword, text in chunks.items():
        info.add_text(keyword.replace("__", "-"), text)
    return _png(info)


def _jpeg(exif: Image.Exif | None = None, image: Image.Image | None = None) -> bytes:
    buf = io.BytesIO()
    (image or _photo()).save(buf, "JPEG", quality=85, exif=exif or Image.Exif())
    return buf.getvalue()


def _exif(**tags: str) -> Image.Exif:
    """An EXIF block of a Canon camera with the given IFD0 tags (by name)."""
    numbers = {"Software": 0x0131, "ProcessingSoftware": 0x000B, "ImageDescription": 0x010E}
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R6"
    for name, value in tags.items():
        exif[numbers[name]] = value
    return exif


def _xmp(attributes: str = "", body: str = "") -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"\n'
        '    xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"\n'
        '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"\n'
        '    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        f"    {attributes}>\n"
        f"   {body}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def _with_xmp(jpeg: bytes, packet: str) -> bytes:
    """An APP1 XMP segment inserted right after SOI."""
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode("utf-8")
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _history(*agents: str) -> str:
    items = "".join(
        f'<rdf:li stEvt:action="saved" stEvt:softwareAgent="{agent}" stEvt:changed="/"/>'
        for agent in agents
    )
    return f"<xmpMM:History><rdf:Seq>{items}</rdf:Seq></xmpMM:History>"


def _stealth_png(
    payload: bytes,
    *,
    channel: str = "alpha",
    compressed: bool = True,
    length: int | None = None,
    image: Image.Image | None = None,
) -> bytes:
    """A PNG whose pixel LSBs carry stealth PNG info as the SD WebUI extension writes it:
    signature, 32-bit length in bits, payload; down each column, then across."""
    kind = ("png" if channel == "alpha" else "rgb") + ("comp" if compressed else "info")
    body = gzip.compress(payload) if compressed else payload
    bits_count = len(body) * 8 if length is None else length
    message = f"stealth_{kind}".encode() + struct.pack(">I", bits_count) + body
    bits = np.unpackbits(np.frombuffer(message, dtype=np.uint8))
    pixels = np.array((image or _photo()).convert("RGBA"))
    planes = pixels[:, :, 3:4] if channel == "alpha" else pixels[:, :, :3]
    height, width, depth = planes.shape
    stream = np.ascontiguousarray(planes.transpose(1, 0, 2)).reshape(-1)
    n = min(len(bits), len(stream))
    stream[:n] = (stream[:n] & 0xFE) | bits[:n]
    planes[:] = stream.reshape(width, height, depth).transpose(1, 0, 2)
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def _raw_png(width: int, height: int, scanlines: bytes) -> bytes:
    """An 8-bit RGBA PNG written by hand: IHDR, one IDAT of the given scanlines, IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(scanlines, 9))
        + chunk(b"IEND", b"")
    )


def _only(labels: list[ProvenanceLabel], code: str) -> ProvenanceLabel:
    matching = [label for label in labels if label.code == code]
    assert len(matching) == 1, labels
    return matching[0]


def _json_safe(labels: list[ProvenanceLabel]) -> None:
    for label in labels:
        json.dumps(label.as_dict())
        assert len(label.value) <= 300


# --------------------------------------------------------------------------- InvokeAI & co


INVOKEAI_METADATA = {
    "generation_mode": "txt2img",
    "positive_prompt": "a dented steel kettle, product photo",
    "negative_prompt": "blurry",
    "width": 1024,
    "height": 1024,
    "seed": 987654321,
    "cfg_scale": 7.5,
    "steps": 30,
    "scheduler": "euler_a",
    "model": {"name": "sdxl-base", "base": "sdxl", "key": "abc"},
    "app_version": "5.6.0",
}
SD_METADATA = {
    "model": "stable diffusion",
    "model_weights": "stable-diffusion-1.5",
    "model_hash": "cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516",
    "app_id": "invoke-ai/InvokeAI",
    "app_version": "2.2.5",
    "image": {
        "prompt": [{"prompt": "a torn leather bag [blurry]", "weight": 1}],
        "steps": 50,
        "cfg_scale": 7.5,
        "seed": 42,
        "sampler": "k_lms",
        "type": "txt2img",
    },
}


@pytest.mark.parametrize(
    ("chunks", "field", "expected"),
    [
        (
            {
                "invokeai_metadata": json.dumps(INVOKEAI_METADATA),
                "invokeai_graph": json.dumps({"id": "g", "nodes": {"a": {}, "b": {}}}),
            },
            "invokeai_metadata",
            {
                "prompt": "a dented steel kettle, product photo",
                "negative_prompt": "blurry",
                "seed": "987654321",
                "steps": "30",
                "sampler": "euler_a",
                "model": "sdxl-base",
                "app_version": "5.6.0",
            },
        ),
        (
            {"invokeai_graph": json.dumps({"id": "g", "nodes": {"a": {}, "b": {}}})},
            "invokeai_graph",
            {"node_count": 2},
        ),
        (
            {"sd__metadata": json.dumps(SD_METADATA), "Dream": '"x" -s 50 -S 42'},
            "sd-metadata",
            {
                "prompt": "a torn leather bag [blurry]",
                "seed": "42",
                "steps": "50",
                "sampler": "k_lms",
                "model": "stable-diffusion-1.5",
                "app_version": "2.2.5",
            },
        ),
        (
            {"Dream": '"a cracked phone screen [lowres]" -s 50 -S 3356262234 -C 7.5 -A k_lms'},
            "Dream",
            {
                "prompt": "a cracked phone screen [lowres]",
                "steps": "50",
                "seed": "3356262234",
                "cfg_scale": "7.5",
                "sampler": "k_lms",
            },
        ),
    ],
    ids=["invokeai_metadata", "invokeai_graph-only", "sd-metadata", "dream"],
)
def test_invokeai_png_chunks(
    chunks: dict[str, str], field: str, expected: dict[str, object]
) -> None:
    labels = read_provenance(_png_text(**chunks))

    label = next(label for label in labels if label.field == field)
    assert (label.code, label.source, label.ai_generated) == (
        "generator_metadata",
        "PNG text chunk",
        True,
    )
    assert label.details["application"] == "InvokeAI"
    assert expected.items() <= label.details.items()
    assert all(other.details["application"] == "InvokeAI" for other in labels)

    (signal,) = provenance_signals(labels)
    assert signal.code == FindingCode.AI_PROVENANCE and signal.weight == 0.9
    assert signal.message.startswith(
        "The file carries the generation metadata of InvokeAI saying it was made or altered by AI"
    )


def test_swarmui_png_chunk() -> None:
    params = {
        "sui_image_params": {
            "prompt": "a chipped plate",
            "seed": 7,
            "steps": 20,
            "model": "flux1-dev",
        }
    }
    label = _only(
        read_provenance(_png_text(sui_image_params=json.dumps(params))), "generator_metadata"
    )
    assert label.details == {
        "application": "SwarmUI",
        "prompt": "a chipped plate",
        "seed": "7",
        "steps": "20",
        "model": "flux1-dev",
    }


def test_novelai_png_chunks_name_the_generator_and_read_its_comment() -> None:
    data = _png_text(
        Title="AI generated image",
        Description="a broken vase, best quality",
        Software="NovelAI",
        Source="NovelAI Diffusion V4.5 4BDE2A90",
        Comment=json.dumps(NOVELAI_COMMENT),
    )

    labels = read_provenance(data)

    comment = _only(labels, "generator_metadata")
    assert (comment.field, comment.details["application"]) == ("Comment", "NovelAI")
    assert comment.details["negative_prompt"] == "lowres, bad anatomy"
    assert comment.details["sampler"] == "k_euler_ancestral"
    assert comment.details["cfg_scale"] == "5.0"
    software = [label for label in labels if label.code == "editing_software"]
    assert {(label.field, label.details["application"]) for label in software} == {
        ("Software", "NovelAI"),
        ("Source", "NovelAI"),
    }
    assert all(label.ai_generated for label in labels)
    # A photo's comment, another tool's JSON or broken JSON is no NovelAI comment.
    for other in (
        "holiday in Lisbon",
        json.dumps({"steps": 3, "sampler": "walk", "seed": 1}),
        "{" * 5000,
    ):
        assert read_provenance(_png_text(Comment=other)) == []


@pytest.mark.parametrize("scheme", ["json", "a1111"])
def test_fooocus_parameters_name_fooocus(scheme: str) -> None:
    if scheme == "json":
        parameters = json.dumps(
            {
                "prompt": "a scratched laptop lid",
                "negative_prompt": "",
                "steps": 30,
                "sampler": "dpmpp_2m_sde_gpu",
                "seed": 12,
                "base_model": "juggernautXL_v8Rundiffusion",
                "version": "Fooocus v2.5.5",
            }
        )
    else:
        parameters = SD_PARAMETERS + ", Version: Fooocus v2.5.5"
    label = _only(
        read_provenance(_png_text(parameters=parameters, fooocus_scheme=scheme)), "sd_parameters"
    )
    assert label.details["application"] == "Fooocus"
    assert label.details.get("prompt", label.details.get("Steps"))


# --------------------------------------------------------------------------- Midjourney


def test_midjourney_job_id_in_png_description() -> None:
    description = f"a shattered wine glass on a marble floor --ar 3:2 --v 6.1 Job ID: {JOB_ID}"
    data = _png_text(Description=description, Author="someone")

    label = _only(read_provenance(data), "generator_metadata")

    assert (label.source, label.field) == ("PNG text chunk", "Description")
    assert label.details == {
        "application": "Midjourney",
        "job_id": JOB_ID,
        "prompt": "a shattered wine glass on a marble floor --ar 3:2 --v 6.1",
    }
    (signal,) = provenance_signals([label])
    assert "the generation metadata of Midjourney" in signal.message
    # A description without a Midjourney job id (a UUID) is no label.
    for other in ("holiday photo", "Job ID: 12345", "Job ID: not-a-uuid-0000-000000000000"):
        assert read_provenance(_png_text(Description=other)) == []
        assert read_provenance(_jpeg(_exif(ImageDescription=other))) == []


def test_midjourney_job_id_in_xmp_description_and_exif() -> None:
    description = f"a crushed cardboard box Job ID: {JOB_ID}"
    xmp = _xmp(
        f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia"'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
        f"{description}</rdf:li></rdf:Alt></dc:description>",
    )
    data = _with_xmp(_jpeg(_exif(ImageDescription=description)), xmp)

    labels = read_provenance(data)

    found = {(label.source, label.field) for label in labels if label.code == "generator_metadata"}
    assert found == {("XMP", "dc:description"), ("EXIF ImageDescription", "ImageDescription")}
    assert {label.details["job_id"] for label in labels if label.code == "generator_metadata"} == {
        JOB_ID
    }
    assert _only(labels, "iptc_ai").ai_generated


# --------------------------------------------------------------------------- generators in XMP


def test_generators_named_in_xmp_fields() -> None:
    """CreatorTool, tiff:Software, and a credit line that says "made with" a generator;
    a credit line naming people (who may share a generator's name) is no label."""
    cases = [
        ('xmp:CreatorTool="Adobe Firefly"', "xmp:CreatorTool", "Adobe Firefly"),
        ('xmp:CreatorTool="DALL-E 3"', "xmp:CreatorTool", "DALL·E"),
        ('xmp:CreatorTool="Stable Diffusion XL 1.0"', "xmp:CreatorTool", "Stable Diffusion"),
        ('tiff:Software="Midjourney"', "tiff:Software", "Midjourney"),
        ('photoshop:Credit="Made with Google AI"', "photoshop:Credit", "Google AI (Imagen/Gemini)"),
        ('photoshop:Credit="Generated with Adobe Firefly"', "photoshop:Credit", "Adobe Firefly"),
    ]
    for attributes, field, application in cases:
        label = _only(read_provenance(_with_xmp(_jpeg(), _xmp(attributes))), "editing_software")
        assert (label.source, label.field, label.ai_generated) == ("XMP", field, True)
        assert label.details["application"] == application
    for credit in ("Photo: Anna Kling", "Wink Studio", "© Midjourney Street Photography Club"):
        assert read_provenance(_with_xmp(_jpeg(), _xmp(f'photoshop:Credit="{credit}"'))) == []


# --------------------------------------------------------------------------- stealth PNG info


@pytest.mark.parametrize(
    ("channel", "compressed"),
    [("alpha", True), ("alpha", False), ("rgb", True), ("rgb", False)],
    ids=["stealth_pngcomp", "stealth_pnginfo", "stealth_rgbcomp", "stealth_rgbinfo"],
)
def test_stealth_png_info_sd_webui(channel: str, compressed: bool) -> None:
    data = _stealth_png(SD_PARAMETERS.encode(), channel=channel, compressed=compressed)
    assert b"Steps" not in data and b"tEXt" not in data  # only the pixels carry it

    label = _only(read_provenance(data), "stealth_pnginfo")

    kind = ("png" if channel == "alpha" else "rgb") + ("comp" if compressed else "info")
    assert label.field == f"stealth_{kind}"
    assert label.source == (
        "PNG pixels (alpha channel)" if channel == "alpha" else "PNG pixels (RGB)"
    )
    assert label.value == SD_PARAMETERS
    assert label.ai_generated
    assert label.details["application"] == "Stable Diffusion WebUI"
    assert label.details["Steps"] == "28" and label.details["Seed"] == "1234567"
    assert label.details["prompt"] == "a cracked ceramic mug on a wooden table"
    (signal,) = provenance_signals([label])
    assert signal.message.startswith(
        "The file carries generation metadata of Stable Diffusion WebUI hidden in its pixels "
        "(stealth PNG info) saying it was made or altered by AI"
    )


def test_stealth_png_info_novelai_json_on_a_tall_image() -> None:
    """NovelAI hides its whole text-chunk JSON, gzip-compressed, in the alpha channel; a
    tall narrow image puts the payload in many columns."""
    payload = {
        "Title": "AI generated image",
        "Description": "a broken vase",
        "Software": "NovelAI",
        "Source": "NovelAI Diffusion V4.5 4BDE2A90",
        "Comment": json.dumps(NOVELAI_COMMENT),
    }
    data = _stealth_png(json.dumps(payload).encode(), image=_photo((40, 400)))

    label = _only(read_provenance(data), "stealth_pnginfo")

    assert label.details["application"] == "NovelAI"
    assert label.details["negative_prompt"] == "lowres, bad anatomy"
    assert label.details["prompt"] == "a broken vase, best quality"


def test_an_unlabelled_png_or_a_copy_without_the_hidden_bits_gives_nothing() -> None:
    data = _stealth_png(SD_PARAMETERS.encode())
    assert read_provenance(data)
    with Image.open(io.BytesIO(data)) as image:
        copy = image.convert("RGB")  # the alpha channel, and the bits in it, are gone
    buf = io.BytesIO()
    copy.save(buf, "PNG")

    assert read_provenance(buf.getvalue()) == []
    assert read_provenance(_png(image=_photo().convert("RGBA"))) == []
    noise = np.random.default_rng(5).integers(0, 256, size=(200, 150, 4), dtype=np.uint8)
    assert read_provenance(_png(image=Image.fromarray(noise, "RGBA"))) == []


def test_a_png_without_stealth_info_decodes_only_its_first_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(3)
    big = Image.fromarray(rng.integers(0, 255, size=(300, 400, 4), dtype=np.uint8)).resize(
        (4000, 3000)
    )
    data = _png(image=big)
    decoded: list[tuple[int, int]] = []
    frombytes = Image.frombytes

    def counting(mode: str, size: tuple[int, int], *args: object, **kwargs: object) -> Image.Image:
        decoded.append(size)
        return frombytes(mode, size, *args, **kwargs)  # type: ignore[arg-type]

    def no_load(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the whole image was decoded")

    monkeypatch.setattr(Image, "frombytes", counting)
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_load)

    assert read_provenance(data) == []
    assert decoded == [(4000, stealth.HEADER_BITS)]  # 152 of 3000 rows


@pytest.mark.parametrize(
    ("payload", "compressed", "length"),
    [
        (b"", True, 2**32 - 1),  # a length far past the pixels
        (gzip.compress(b"A" * 50_000_000)[:2000], False, None),  # a gzip bomb, cut (info)
        (b"\x00" * 100, True, None),  # "gzip" that is not
    ],
    ids=["huge-length", "bomb-stored", "not-gzip"],
)
def test_hostile_stealth_payloads_are_bounded(
    payload: bytes, compressed: bool, length: int | None
) -> None:
    data = _stealth_png(payload, compressed=compressed, length=length)

    label = _only(read_provenance(data), "stealth_pnginfo")

    _json_safe([label])
    if length is not None:
        assert label.details["truncated"] is True
        assert label.details["payload_bits"] == length


def test_a_gzip_bomb_in_the_pixels_inflates_to_the_cap_only() -> None:
    bomb = gzip.compress(b"Steps: 1, Sampler: x " + b" " * 40_000_000)
    assert len(bomb) < 60_000
    # Written stored, then re-labelled as the compressed variant: it is a gzip stream already.
    data = _stealth_png(bomb, compressed=False, image=_photo((400, 400)))
    label = _only(read_provenance(_restamp(data, b"stealth_pngcomp")), "stealth_pnginfo")
    assert label.details["application"] == "Stable Diffusion WebUI"
    assert len(label.value) <= 300


def _restamp(data: bytes, signature: bytes) -> bytes:
    """The same stealth PNG under another signature (the payload bits untouched)."""
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.array(image)
    bits = np.unpackbits(np.frombuffer(signature, dtype=np.uint8))
    column = pixels[:, 0, 3]
    column[: len(bits)] = (column[: len(bits)] & 0xFE) | bits
    pixels[:, 0, 3] = column
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def test_truncated_and_corrupt_stealth_pngs_never_raise() -> None:
    data = _stealth_png(SD_PARAMETERS.encode(), image=_photo((300, 300)))
    idat = data.index(b"IDAT")
    for cut in (idat + 10, idat + 200, len(data) // 2, len(data) - 20):
        _json_safe(read_provenance(data[:cut]))
    corrupted = bytearray(data)
    corrupted[idat + 100 : idat + 140] = b"\xff" * 40
    _json_safe(read_provenance(bytes(corrupted)))
    # A signature in the first rows whose payload rows are missing still says so.
    label = _only(read_provenance(data[: len(data) - 200]), "stealth_pnginfo")
    assert (label.value, label.details["payload_read"]) == ("stealth_pngcomp", False)


# --------------------------------------------------------------------------- editors


@pytest.mark.parametrize(
    ("software", "application"),
    [
        ("Adobe Fireworks CS6", "Adobe Fireworks"),
        ("Macromedia Fireworks MX 2004", "Adobe Fireworks"),
        ("Microsoft Windows Photo Viewer 6.1.7600.16385", "Windows Photo Gallery"),
        ("Windows Photo Gallery 6.0.6001.18000", "Windows Photo Gallery"),
        ("Windows Live Photo Gallery", "Windows Photo Gallery"),
        ("CAMEDIA Master 4.2", "Olympus CAMEDIA Master"),
        ("Paint Shop Pro 9.00", "PaintShop Pro"),
        ("Picasa", "Picasa"),
        ("ACDSee Pro 8", "ACDSee"),
    ],
)
def test_more_editors_are_recognised(software: str, application: str) -> None:
    label = _only(read_provenance(_jpeg(_exif(Software=software))), "editing_software")

    assert (label.field, label.value, label.ai_generated) == ("Software", software, False)
    assert label.details == {"application": application, "kind": "editor"}


def test_processing_software_tag_names_an_editor() -> None:
    label = _only(
        read_provenance(_jpeg(_exif(ProcessingSoftware="GIMP 2.10.36"))), "editing_software"
    )
    assert (label.source, label.field, label.details["application"]) == (
        "EXIF Software",
        "ProcessingSoftware",
        "GIMP",
    )


@pytest.mark.parametrize(
    "firmware",
    [
        "Ver.1.0",
        "Ver.1.00 ",
        "E-M10MarkII Ver.1.0",
        "Version 1.0",
        "HDR+ 1.0.540104767zd",
        "G998BXXU5CVDD",
        "17.1",
        "iPhone 15 Pro",
        "MediaTek Camera Application",
        "OLYMPUS DIGITAL CAMERA",
        "Firmware Version 2.10",
        "Android",
    ],
)
def test_camera_firmware_is_not_an_editor(firmware: str) -> None:
    """The camera's firmware in Software is no editor; the editor that re-saved the file,
    in ProcessingSoftware, is the only one listed."""
    data = _jpeg(_exif(Software=firmware, ProcessingSoftware="Windows Photo Gallery 6.0"))

    labels = read_provenance(data)

    assert classify_software(firmware) is None
    assert [(label.field, label.details["application"]) for label in labels] == [
        ("ProcessingSoftware", "Windows Photo Gallery")
    ]


def test_two_editors_in_one_file_are_both_listed() -> None:
    xmp = _xmp(
        'xmp:CreatorTool="Adobe Photoshop 25.0 (Windows)"',
        _history(
            "Adobe Photoshop 25.0 (Windows)",
            "Adobe Fireworks CS6",
            "Adobe Photoshop 25.0 (Windows)",
        ),
    )
    data = _with_xmp(_jpeg(_exif(Software="GIMP 2.10.36")), xmp)

    labels = read_provenance(data)

    assert [(label.field, label.details["application"]) for label in labels] == [
        ("xmp:CreatorTool", "Adobe Photoshop"),
        ("stEvt:softwareAgent", "Adobe Photoshop"),
        ("stEvt:softwareAgent", "Adobe Fireworks"),
        ("Software", "GIMP"),
    ]
    (signal,) = provenance_signals(labels)
    assert signal.code == FindingCode.EDITING_SOFTWARE and signal.weight == 0.25
    assert [e["application"] for e in signal.evidence["editors"]] == [
        "Adobe Photoshop",
        "Adobe Fireworks",
        "GIMP",
    ]
    assert signal.message == (
        "The file was saved by editing software: "
        "Adobe Photoshop (XMP, xmp:CreatorTool = “Adobe Photoshop 25.0 (Windows)”), "
        "Adobe Fireworks (XMP, stEvt:softwareAgent = “Adobe Fireworks CS6”) and "
        "GIMP (EXIF Software, Software = “GIMP 2.10.36”)."
    )
    # A finding stored when one editor was kept still reads as it did.
    stored = {"source": "EXIF Software", "field": "Software", "value": "GIMP 2.10"}
    assert finding_sentence(FindingCode.EDITING_SOFTWARE, stored) == (
        "The file was saved by editing software: Software = “GIMP 2.10” (EXIF Software)."
    )


def test_an_editor_beside_an_ai_generator_keeps_its_own_finding() -> None:
    xmp = _xmp('xmp:CreatorTool="Midjourney"')
    labels = read_provenance(_with_xmp(_jpeg(_exif(Software="Adobe Photoshop 25.0")), xmp))

    signals = {signal.code: signal for signal in provenance_signals(labels)}

    assert set(signals) == {FindingCode.AI_PROVENANCE, FindingCode.EDITING_SOFTWARE}
    assert "the AI image generator Midjourney" in signals[FindingCode.AI_PROVENANCE].message
    assert "Adobe Photoshop (EXIF Software" in signals[FindingCode.EDITING_SOFTWARE].message


def test_real_photoshop_file_names_photoshop_once() -> None:
    """A public C2PA fixture without a manifest: Photoshop in EXIF Software, XMP
    CreatorTool and its edit history is one editor."""
    path = _datasets() / "c2pa" / "no_manifest.jpg"
    if not path.is_file():
        pytest.skip(f"no shared datasets at {path.parent} (see ../shared/datasets/README.md)")

    labels = read_provenance(path.read_bytes())

    assert {label.details["application"] for label in labels} == {"Adobe Photoshop"}
    (signal,) = provenance_signals(labels)
    assert [e["application"] for e in signal.evidence["editors"]] == ["Adobe Photoshop"]
    assert signal.message.count("Adobe Photoshop (") == 1


# --------------------------------------------------------------------------- hostile texts


def test_hostile_generator_chunks_are_bounded() -> None:
    info = PngInfo()
    info.add_text("invokeai_metadata", "[" * 200_000, zip=True)
    info.add_text("Dream", '"' + "a" * 3_000_000, zip=True)
    info.add_text("Dream", '"sweet dreams" of summer')  # a word, not InvokeAI's command line
    info.add_text("sd-metadata", '{"image": {"prompt": ' + "[" * 100_000, zip=True)
    info.add_text("Comment", '{"uc": 1, ' + '"k": "v", ' * 200_000 + "}", zip=True)
    info.add_text("Description", "Job ID: " * 300_000, zip=True)
    info.add_itxt(
        "XML:com.adobe.xmp", _xmp("", "<dc:description>" + "Job ID: " * 100_000), zip=True
    )

    labels = read_provenance(_png(info))

    assert [(label.field, label.details.get("parse_error")) for label in labels] == [
        ("invokeai_metadata", True),
        ("sd-metadata", True),
    ]
    _json_safe(labels)


def test_a_highly_compressed_png_is_inflated_only_as_far_as_its_first_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """16 MB of zero pixels in a 16 KB IDAT: only the first rows are inflated."""
    width, height = 2000, 2000
    data = _raw_png(width, height, b"\x00" * (height * (1 + width * 4)))
    inflated: list[int] = []
    inflate = zlib.decompressobj

    class Counting:
        def __init__(self, wbits: int = zlib.MAX_WBITS) -> None:
            self._inflater = inflate(wbits)

        def __getattr__(self, name: str) -> object:
            return getattr(self._inflater, name)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self._inflater.decompress(data, max_length)
            inflated.append(len(out))
            return out

    monkeypatch.setattr(stealth.zlib, "decompressobj", Counting)

    assert read_provenance(data) == []
    assert sum(inflated) == stealth.HEADER_BITS * (1 + width * 4)  # 152 rows of 2000


def test_a_png_past_the_caps_is_not_decoded_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the photo's pixel cap, or so wide that its first rows would inflate past
    ``HEAD_BYTES_MAX`` (a 100 KB zlib bomb of a million-pixel-wide row), nothing is
    inflated."""
    labelled = _stealth_png(SD_PARAMETERS.encode(), image=_photo((300, 200)))
    wide = _raw_png(1_000_000, 10, b"\x00" * (1 + 4_000_000))

    assert _only(read_provenance(labelled), "stealth_pnginfo").value == SD_PARAMETERS

    def no_inflate(*args: object) -> object:
        raise AssertionError("pixels were inflated")

    monkeypatch.setattr(stealth.zlib, "decompressobj", no_inflate)
    assert read_provenance(wide) == []
    monkeypatch.setattr(stealth, "STEALTH_PIXELS_MAX", 300 * 200 - 1)
    assert read_provenance(labelled) == []
