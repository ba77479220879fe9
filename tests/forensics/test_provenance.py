"""Provenance readers: each test writes a file carrying a label, then reads it back.

No database. Images are synthetic or from scikit-image; C2PA files are signed here with a
throw-away CA and signing certificate made by ``cryptography``.
"""

from __future__ import annotations

import datetime
import http.server
import io
import json
import random
import struct
import sys
import threading
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile
from PIL.PngImagePlugin import PngInfo
from skimage import data as skdata

from forensics.provenance import (
    ProvenanceLabel,
    classify_software,
    labels_from_c2pa_store,
    parse_aigc,
    read_provenance,
)

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AIGC = {
    "Label": "1",
    "ContentProducer": "001191330100MA2KBX4W1200000",
    "ProduceID": "2025-09-01-abc123",
    "ReservedCode1": "",
    "ContentPropagator": "001191330100MA2KBX4W1200000",
    "PropagateID": "p-42",
    "ReservedCode2": "",
}
SD_PARAMETERS = (
    "a cracked ceramic mug on a wooden table, photo, 4k\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567, Size: 768x512, "
    "Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.9.4"
)
COMFY_PROMPT = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev.safetensors"}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
}
COMFY_WORKFLOW = {
    "last_node_id": 9,
    "nodes": [
        {"id": 3, "type": "KSampler", "widgets_values": [1, "fixed", 20]},
        {"id": 9, "type": "SaveImage"},
    ],
    "links": [],
}


# --------------------------------------------------------------------------- file makers


def _photo(size: tuple[int, int] = (96, 64)) -> Image.Image:
    return Image.fromarray(skdata.astronaut()).resize(size)


def _jpeg(image: Image.Image | None = None, **save: object) -> bytes:
    buf = io.BytesIO()
    (image or _photo()).save(buf, "JPEG", quality=85, **save)
    return buf.getvalue()


def _png(info: PngInfo | None = None, image: Image.Image | None = None) -> bytes:
    buf = io.BytesIO()
    (image or _photo()).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def _webp(**save: object) -> bytes:
    buf = io.BytesIO()
    _photo().save(buf, "WEBP", quality=80, **save)
    return buf.getvalue()


def _splice_xmp(jpeg: bytes, packet: str) -> bytes:
    """Insert an APP1 XMP segment right after SOI."""
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode("utf-8")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + segment + jpeg[2:]


def _xmp(description: str, body: str = "") -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        f"    {description}>\n"
        f"   {body}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def _attr_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _exif(software: str | None = None, comment: bytes | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS R6"  # Model
    if software is not None:
        # Apps write UTF-8 into this ASCII tag; Pillow would turn a non-ASCII str into "?".
        exif[0x0131] = software if software.isascii() else software.encode("utf-8")
    if comment is not None:
        exif.get_ifd(0x8769)[0x9286] = comment
    return exif


def _only(labels: list[ProvenanceLabel], code: str) -> ProvenanceLabel:
    matching = [label for label in labels if label.code == code]
    assert len(matching) == 1, labels
    return matching[0]


def _assert_json_safe(labels: list[ProvenanceLabel]) -> None:
    for label in labels:
        json.dumps(label.as_dict())
        assert len(label.value) <= 300


# --------------------------------------------------------------------------- XMP


def test_jpeg_xmp_iptc_digital_source_type_attribute() -> None:
    uri = IPTC + "trainedAlgorithmicMedia"
    data = _splice_xmp(_jpeg(), _xmp(f'Iptc4xmpExt:DigitalSourceType="{uri}"'))

    labels = read_provenance(data)

    assert labels == [
        ProvenanceLabel(
            code="iptc_ai",
            source="XMP",
            field="Iptc4xmpExt:DigitalSourceType",
            value=uri,
            ai_generated=True,
            details={"digital_source_type": "trainedAlgorithmicMedia", "uri": uri},
        )
    ]


@pytest.mark.parametrize(
    ("body", "term"),
    [
        (
            "<Iptc4xmpExt:DigitalSourceType>{uri}</Iptc4xmpExt:DigitalSourceType>",
            "compositeWithTrainedAlgorithmicMedia",
        ),
        ('<Iptc4xmpExt:DigitalSourceType rdf:resource="{uri}"/>', "compositeSynthetic"),
    ],
    ids=["element-text", "element-resource"],
)
def test_jpeg_xmp_iptc_digital_source_type_element(body: str, term: str) -> None:
    data = _splice_xmp(_jpeg(), _xmp("", body.format(uri=IPTC + term)))

    label = _only(read_provenance(data), "iptc_ai")

    assert label.field == "Iptc4xmpExt:DigitalSourceType"
    assert label.value == IPTC + term
    assert label.details["digital_source_type"] == term


@pytest.mark.parametrize(
    "term", ["digitalCapture", "algorithmicMedia", "algorithmicallyEnhanced", "humanEdits"]
)
def test_xmp_non_ai_digital_source_type_is_not_a_label(term: str) -> None:
    # IPTC: algorithmicMedia is "purely algorithmic", made without a trained model.
    xmp = _xmp(f'Iptc4xmpExt:DigitalSourceType="{IPTC}{term}"')
    assert read_provenance(_splice_xmp(_jpeg(), xmp)) == []


def test_jpeg_xmp_tc260_aigc_attribute_entity_escaped() -> None:
    value = json.dumps(AIGC, separators=(",", ":"))
    data = _splice_xmp(_jpeg(), _xmp(f'TC260:AIGC="{_attr_escape(value)}"'))

    label = _only(read_provenance(data), "tc260_aigc")

    assert (label.source, label.field, label.value) == ("XMP", "TC260:AIGC", value)
    assert label.ai_generated is True
    assert label.details["Label"] == "1"
    assert label.details["label_meaning"] == "AI-generated"
    assert label.details["ContentProducer"] == AIGC["ContentProducer"]
    assert label.details["ProduceID"] == AIGC["ProduceID"]
    assert label.details["PropagateID"] == "p-42"


def test_xmp_tc260_double_escaped_and_numeric_label() -> None:
    value = json.dumps({"Label": 2, "ContentProducer": "ACME", "ProduceID": "x1"})
    double = _attr_escape(_attr_escape(value))  # &amp;quot; — seen from some writers
    data = _splice_xmp(_jpeg(), _xmp(f'TC260:AIGC="{double}"'))

    label = _only(read_provenance(data), "tc260_aigc")

    assert label.details["Label"] == "2"
    assert label.details["label_meaning"] == "possibly AI-generated"
    assert label.details["ContentProducer"] == "ACME"


@pytest.mark.parametrize("compressed", [False, True], ids=["itxt", "itxt-zlib"])
def test_png_itxt_xmp_tc260_element(compressed: bool) -> None:
    aigc = {**AIGC, "Label": "3"}
    body = f"<TC260:AIGC>{json.dumps(aigc).replace('&', '&amp;')}</TC260:AIGC>"
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", _xmp("", body), zip=compressed)
    data = _png(info)
    if compressed:  # the packet is not visible in the raw bytes: the chunk walk finds it
        assert b"TC260" not in data

    label = _only(read_provenance(data), "tc260_aigc")

    assert (label.source, label.field) == ("XMP", "TC260:AIGC")
    assert label.details["Label"] == "3"
    assert label.details["label_meaning"] == "suspected AI-generated"
    assert label.details["ProduceID"] == AIGC["ProduceID"]


def test_webp_xmp_iptc() -> None:
    uri = IPTC + "compositeWithTrainedAlgorithmicMedia"
    xmp = _xmp(f'Iptc4xmpExt:DigitalSourceType="{uri}"')
    data = _webp(xmp=xmp.encode("utf-8"))
    assert data[:4] == b"RIFF" and b"XMP " in data

    label = _only(read_provenance(data), "iptc_ai")

    assert label.value == uri
    assert label.details["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"


def test_xmp_creator_tool_names_editor() -> None:
    xmp = _xmp('xmp:CreatorTool="Adobe Photoshop 25.0 (Windows)"')

    label = _only(read_provenance(_splice_xmp(_jpeg(), xmp)), "editing_software")

    assert (label.source, label.field) == ("XMP", "xmp:CreatorTool")
    assert label.ai_generated is False
    assert label.details == {"application": "Adobe Photoshop", "kind": "editor"}


def test_jpeg_extended_xmp_is_reassembled() -> None:
    """A packet split over APP1 "xmp/extension" segments (large XMP) is still read."""
    packet = _xmp(f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia"').encode()
    guid = b"0123456789ABCDEF0123456789ABCDEF"
    segments = b""
    for offset in range(0, len(packet), 200):
        payload = (
            b"http://ns.adobe.com/xmp/extension/\x00"
            + guid
            + struct.pack(">II", len(packet), offset)
            + packet[offset : offset + 200]
        )
        segments += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    jpeg = _jpeg()
    data = jpeg[:2] + segments + jpeg[2:]

    assert _only(read_provenance(data), "iptc_ai").details["digital_source_type"] == (
        "trainedAlgorithmicMedia"
    )


# --------------------------------------------------------------------------- PNG text


@pytest.mark.parametrize("kind", ["tEXt", "zTXt", "iTXt"])
def test_png_aigc_text_chunk(kind: str) -> None:
    value = json.dumps(AIGC, ensure_ascii=False)
    info = PngInfo()
    if kind == "iTXt":
        info.add_itxt("AIGC", value)
    else:
        info.add_text("AIGC", value, zip=kind == "zTXt")
    data = _png(info)
    assert kind.encode() in data

    label = _only(read_provenance(data), "tc260_aigc")

    assert (label.source, label.field, label.value) == ("PNG text chunk", "AIGC", value)
    assert label.details["Label"] == "1"
    assert label.details["ContentProducer"] == AIGC["ContentProducer"]


def test_png_sd_webui_parameters() -> None:
    info = PngInfo()
    info.add_text("parameters", SD_PARAMETERS)

    label = _only(read_provenance(_png(info)), "sd_parameters")

    assert (label.source, label.field) == ("PNG text chunk", "parameters")
    assert label.value == SD_PARAMETERS
    assert label.ai_generated is True
    assert label.details["prompt"] == "a cracked ceramic mug on a wooden table, photo, 4k"
    assert label.details["negative_prompt"] == "blurry, lowres"
    assert label.details["Steps"] == "28"
    assert label.details["Sampler"] == "DPM++ 2M Karras"
    assert label.details["Seed"] == "1234567"
    assert label.details["Model"] == "sd_xl_base_1.0"


def test_png_comfyui_prompt_and_workflow_even_after_idat() -> None:
    png = _png()
    # Append the text chunks after IDAT (allowed by PNG; Pillow's .info misses them).
    chunks = b""
    for key, value in (("prompt", COMFY_PROMPT), ("workflow", COMFY_WORKFLOW)):
        body = key.encode() + b"\x00" + json.dumps(value).encode()
        chunks += struct.pack(">I", len(body)) + b"tEXt" + body
        chunks += struct.pack(">I", zlib.crc32(b"tEXt" + body))
    iend = png.rindex(b"IEND") - 4
    data = png[:iend] + chunks + png[iend:]

    labels = [label for label in read_provenance(data) if label.code == "comfyui_workflow"]

    assert [label.field for label in labels] == ["prompt", "workflow"]
    assert labels[0].details == {
        "node_count": 3,
        "node_types": ["CheckpointLoaderSimple", "KSampler", "SaveImage"],
    }
    assert labels[1].details == {"node_count": 2, "node_types": ["KSampler", "SaveImage"]}
    assert all(label.source == "PNG text chunk" and label.ai_generated for label in labels)


def test_png_text_that_is_not_a_generator_graph_is_ignored() -> None:
    info = PngInfo()
    info.add_text("prompt", "say cheese")
    info.add_text("Comment", "holiday 2024")
    info.add_text("workflow", "[1, 2, 3]")
    assert read_provenance(_png(info)) == []


# --------------------------------------------------------------------------- EXIF


@pytest.mark.parametrize(
    "prefix, encoding",
    [(b"ASCII\x00\x00\x00", "utf-8"), (b"UNICODE\x00", "utf-16-be"), (b"\x00" * 8, "utf-8")],
    ids=["ascii", "unicode-be", "undefined"],
)
def test_jpeg_exif_user_comment_aigc(prefix: bytes, encoding: str) -> None:
    value = json.dumps({"AIGC": AIGC}, ensure_ascii=False)
    data = _jpeg(exif=_exif(comment=prefix + value.encode(encoding)))

    label = _only(read_provenance(data), "tc260_aigc")

    assert (label.source, label.field) == ("EXIF UserComment", "UserComment")
    assert label.value == value
    assert label.details["Label"] == "1"
    assert label.details["ProduceID"] == AIGC["ProduceID"]


def test_jpeg_exif_user_comment_sd_parameters_unicode() -> None:
    comment = b"UNICODE\x00" + SD_PARAMETERS.encode("utf-16-be")  # what A1111 writes

    label = _only(read_provenance(_jpeg(exif=_exif(comment=comment))), "sd_parameters")

    assert (label.source, label.field) == ("EXIF UserComment", "UserComment")
    assert label.details["Steps"] == "28"
    assert label.details["CFG scale"] == "6.5"


def test_webp_exif_user_comment_sd_parameters() -> None:
    exif = _exif(comment=b"ASCII\x00\x00\x00" + SD_PARAMETERS.encode())
    label = _only(read_provenance(_webp(exif=exif)), "sd_parameters")
    assert label.details["Sampler"] == "DPM++ 2M Karras"


def test_png_exif_chunk_software() -> None:
    buf = io.BytesIO()
    _photo().save(buf, "PNG", exif=_exif(software="GIMP 2.10.36"))
    assert b"eXIf" in buf.getvalue()

    label = _only(read_provenance(buf.getvalue()), "editing_software")

    assert (label.source, label.field, label.value) == ("EXIF Software", "Software", "GIMP 2.10.36")


@pytest.mark.parametrize(
    ("software", "application", "ai"),
    [
        ("Adobe Photoshop 25.0 (Windows)", "Adobe Photoshop", False),
        ("Adobe Photoshop Lightroom Classic 13.1 (Windows)", "Adobe Lightroom", False),
        ("美图秀秀", "Meitu", False),
        ("MTXX 9.9.1", "Meitu", False),
        ("醒图", "Xingtu (Hypic)", False),
        ("PicsArt", "Picsart", False),
        ("Snapseed 2.0", "Snapseed", False),
        ("Canva", "Canva", False),
        ("Remini", "Remini", False),
        ("Fotor", "Fotor", False),
        ("Adobe Firefly", "Adobe Firefly", True),
        ("Midjourney", "Midjourney", True),
        ("DALL·E 3", "DALL·E", True),
        ("Stable Diffusion XL", "Stable Diffusion", True),
    ],
)
def test_jpeg_exif_software_editing_app(software: str, application: str, ai: bool) -> None:
    label = _only(read_provenance(_jpeg(exif=_exif(software=software))), "editing_software")

    assert (label.source, label.field, label.value) == ("EXIF Software", "Software", software)
    assert label.ai_generated is ai
    assert label.details["application"] == application


@pytest.mark.parametrize(
    "firmware",
    [
        "HDR+ 1.0.540104767zd",
        "17.1",
        "iOS 17.1",
        "Android RP1A.200720.012",
        "G998BXXU5CVDD",
        "Ver.1.00",
        "ILCE-7M3 v3.01",
        "MediaTek Camera Application",
        "Firmware Version 1.1.0",
    ],
)
def test_camera_firmware_software_is_not_a_label(firmware: str) -> None:
    assert read_provenance(_jpeg(exif=_exif(software=firmware))) == []
    assert classify_software(firmware) is None


# --------------------------------------------------------------------------- absence


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "GIF"])
def test_clean_photo_has_no_label(fmt: str) -> None:
    buf = io.BytesIO()
    image = _photo((160, 120))
    image.save(buf, fmt, **({"exif": _exif()} if fmt in ("JPEG", "WEBP", "TIFF") else {}))
    assert read_provenance(buf.getvalue()) == []


def test_camera_jpeg_with_plain_user_comment_has_no_label() -> None:
    data = _jpeg(exif=_exif(software="17.1", comment=b"ASCII\x00\x00\x00Birthday, label on box"))
    assert read_provenance(data) == []


# --------------------------------------------------------------------------- robustness


def _labelled_files() -> list[bytes]:
    info = PngInfo()
    info.add_text("AIGC", json.dumps(AIGC))
    info.add_text("parameters", SD_PARAMETERS)
    info.add_itxt("XML:com.adobe.xmp", _xmp('TC260:AIGC="{&quot;Label&quot;:&quot;1&quot;}"'))
    xmp = _xmp(f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia"')
    return [
        _png(info),
        _splice_xmp(
            _jpeg(exif=_exif("Photoshop", b"ASCII\x00\x00\x00" + SD_PARAMETERS.encode())), xmp
        ),
        _webp(xmp=xmp.encode(), exif=_exif("Midjourney")),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"\xff\xd8",
        b"\xff\xd8\xff",
        b"\xff\xd8\xff\xe1\x00\x01",
        b"\xff\xd8\xff\xe1\xff\xffExif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff",
        b"\x89PNG\r\n\x1a\n",
        b"\x89PNG\r\n\x1a\n\xff\xff\xff\xfftEXtAIGC\x00{",
        b"RIFF\x00\x00\x00\x00WEBPXMP \xff\xff\xff\xff<x:xmpmeta",
        b"II*\x00\x08\x00\x00\x00\xff\xff",
        b"\x00\x00\x00\x18ftypheic" + b"\x00" * 16,
        b"<x:xmpmeta>" * 100,
        b"c2pa jumb c2pa",
        bytes(random.Random(7).getrandbits(8) for _ in range(50_000)),
    ],
    ids=lambda d: f"{len(d)}B",
)
def test_malformed_input_never_raises(data: bytes) -> None:
    labels = read_provenance(data)
    assert isinstance(labels, list)
    _assert_json_safe(labels)


def test_truncated_and_corrupted_labelled_files_never_raise() -> None:
    rng = random.Random(11)
    for data in _labelled_files():
        assert read_provenance(data), "the intact file carries labels"
        for cut in sorted({1, 2, 3, 8, 12, 20, 40, 100, len(data) // 2, len(data) - 1}):
            _assert_json_safe(read_provenance(data[:cut]))
        for _ in range(30):
            corrupted = bytearray(data)
            for _ in range(8):
                corrupted[rng.randrange(len(corrupted))] = rng.randrange(256)
            _assert_json_safe(read_provenance(bytes(corrupted)))


def test_malformed_xmp_still_yields_what_can_be_read() -> None:
    broken = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
        f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia" '
        "<<<unclosed <TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;,&quot;ContentProdu"
    )
    labels = read_provenance(_splice_xmp(_jpeg(), broken))
    assert _only(labels, "iptc_ai").details["digital_source_type"] == "trainedAlgorithmicMedia"
    aigc = _only(labels, "tc260_aigc")
    assert aigc.details["Label"] == "1"
    assert aigc.details["parse_error"] is True


def test_xml_entities_are_not_expanded() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">'
        '<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
        + _xmp('TC260:AIGC="&c;&ext;"', "<TC260:AIGC>&ext;</TC260:AIGC>")
    )
    assert read_provenance(_splice_xmp(_jpeg(), bomb)) == []


@pytest.mark.parametrize(
    "packet",
    [
        "<x:xmpmeta>" + "<TC260:AIGC>" * 30_000,
        "<x:xmpmeta " + "a" * 300_000 + "</x:xmpmeta>",
        "<x:xmpmeta><TC260:AIGC>" + "<![CDATA[" * 30_000 + "</TC260:AIGC></x:xmpmeta>",
        "<x:xmpmeta " + 'DigitalSourceType="' * 20_000 + "</x:xmpmeta>",
        '<x:xmpmeta Iptc4xmpExt:DigitalSourceType="http://a' + "/b" * 200 + '/-"></x:xmpmeta>',
    ],
    ids=["open-elements", "word-run", "cdata", "attributes", "slashes"],
)
def test_hostile_xmp_packets_are_read_in_linear_time(packet: str) -> None:
    """Shapes that would make a naive regex backtrack; a hang here fails by timeout."""
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet, zip=True)
    assert read_provenance(_png(info)) == []


def test_hostile_generator_texts() -> None:
    info = PngInfo()
    info.add_text("parameters", "Steps: 1 Sampler: " + "a" * 300_000, zip=True)
    info.add_text("prompt", "[" * 100_000, zip=True)  # nesting deeper than json can parse
    info.add_text("workflow", '{"nodes":' + "[" * 100_000, zip=True)
    labels = read_provenance(_png(info))
    assert [label.code for label in labels] == ["sd_parameters", "comfyui_workflow"]
    _assert_json_safe(labels)


def test_truncated_aigc_json() -> None:
    text = json.dumps(AIGC)[:40]  # '{"Label": "1", "ContentProducer": "0011'
    details = parse_aigc(text)
    assert details is not None
    assert details["Label"] == "1"
    assert details["parse_error"] is True
    assert parse_aigc('{"Lab') is None
    assert parse_aigc("") is None
    assert parse_aigc('{"label": "x", "foo": 1}') is None  # not the TC260 keys


def test_png_aigc_chunk_with_garbage_is_reported_as_unparsed() -> None:
    info = PngInfo()
    info.add_text("AIGC", "%%%not json%%%")
    label = _only(read_provenance(_png(info)), "tc260_aigc")
    assert label.details == {"parse_error": True}


def test_compressed_text_bomb_is_bounded() -> None:
    info = PngInfo()
    info.add_itxt("AIGC", '{"Label":"1",' + " " * 30_000_000 + "}", zip=True)
    label = _only(read_provenance(_png(info)), "tc260_aigc")
    assert label.details["Label"] == "1"
    assert len(label.value) <= 300


def test_big_photo_is_read_without_decoding_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    small = rng.integers(0, 255, size=(300, 400, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((4000, 3000))  # 12 megapixels
    xmp = _xmp(f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia"')
    jpeg = _splice_xmp(_jpeg(image, exif=_exif("Snapseed")), xmp)
    assert len(jpeg) > 1_000_000

    def no_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    labels = read_provenance(jpeg)

    assert [label.code for label in labels] == ["iptc_ai", "editing_software"]


# --------------------------------------------------------------------------- C2PA


def _signer() -> object:
    """A c2pa Signer from a fresh CA + end-entity certificate (no network, no files)."""
    return _signer_and_anchor()[0]


def _signer_and_anchor() -> tuple[object, str]:
    """A c2pa Signer from a fresh CA + end-entity certificate, and the CA's PEM (a trust
    anchor that makes the signer trusted)."""
    import c2pa
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "RefundGuard Tests"),
            ]
        )

    now = datetime.datetime.now(datetime.UTC)

    def usage(signing: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=not signing,
            crl_sign=not signing,
            encipher_only=False,
            decipher_only=False,
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Test Root"))
        .issuer_name(name("Test Root"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("Test AI Generator"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(signing=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, private, None)
    anchor = ca.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return c2pa.Signer.from_info(info), anchor


def _c2pa_sign(asset: bytes, mime: str, source_type: str, remote_url: str | None = None) -> bytes:
    import c2pa

    manifest = {
        "claim_generator_info": [{"name": "RefundGuard test generator", "version": "1.0"}],
        "title": "generated",
        "format": mime,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": IPTC + source_type,
                            "softwareAgent": {"name": "Imaginary Diffusion 2"},
                        }
                    ]
                },
            }
        ],
    }
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        if remote_url is not None:
            builder.set_no_embed()
            builder.set_remote_url(remote_url)
        builder.sign(_signer(), mime, io.BytesIO(asset), out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mime", "make"), [("image/jpeg", _jpeg), ("image/png", _png)], ids=["jpeg", "png"]
)
def test_c2pa_signed_manifest_with_ai_source_type(mime: str, make: object) -> None:
    asset = make()  # type: ignore[operator]
    data = _c2pa_sign(asset, mime, "trainedAlgorithmicMedia")

    label = _only(read_provenance(data), "c2pa_ai")

    assert (label.source, label.field) == ("C2PA manifest", "digitalSourceType")
    assert label.value == IPTC + "trainedAlgorithmicMedia"
    assert label.ai_generated is True
    assert label.details["digital_source_type"] == "trainedAlgorithmicMedia"
    assert label.details["active_manifest"] is True
    assert label.details["software_agent"] == "Imaginary Diffusion 2"
    assert label.details["claim_generator"].startswith("RefundGuard test generator")
    assert label.details["signer_common_name"] == "Test AI Generator"
    # Signed correctly, but by a certificate nobody trusts: still reported, and said so,
    # but not as a failure.
    assert label.details["validation_state"] == "Valid"
    assert label.details["validation_failures"] == []
    assert label.details["signer_trusted"] is False
    _assert_json_safe([label])


def test_c2pa_composite_source_type_survives_a_later_edit() -> None:
    data = _c2pa_sign(_jpeg(), "image/jpeg", "compositeWithTrainedAlgorithmicMedia")
    # Flip bytes in the middle of the scan data: the hash no longer matches.
    sos = data.rindex(b"\xff\xda")
    tampered = bytearray(data)
    for i in range(sos + 200, sos + 220):
        tampered[i] ^= 0x55

    labels = read_provenance(bytes(tampered))
    label = _only(labels, "c2pa_ai")

    assert label.details["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert label.details["validation_state"] == "Invalid"
    assert label.details["validation_failures"] == ["assertion.dataHash.mismatch"]
    invalid = _only(labels, "c2pa_invalid")
    assert [f["code"] for f in invalid.details["failures"]] == ["assertion.dataHash.mismatch"]


def test_c2pa_camera_capture_is_not_a_label() -> None:
    data = _c2pa_sign(_jpeg(), "image/jpeg", "digitalCapture")
    assert b"c2pa" in data
    assert read_provenance(data) == []


def test_c2pa_remote_manifest_is_never_fetched() -> None:
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/manifest.c2pa"
        data = _c2pa_sign(_jpeg(), "image/jpeg", "trainedAlgorithmicMedia", remote_url=url)
        assert url.encode() in data
        assert read_provenance(data) == []
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []


def test_without_c2pa_python_other_readers_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    xmp = _xmp(f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia"')
    data = _c2pa_sign(_splice_xmp(_jpeg(), xmp), "image/jpeg", "trainedAlgorithmicMedia")
    assert {label.code for label in read_provenance(data)} == {"c2pa_ai", "iptc_ai"}

    monkeypatch.setitem(sys.modules, "c2pa", None)  # import c2pa → ImportError

    assert [label.code for label in read_provenance(data)] == ["iptc_ai"]


def test_png_utf8_text_chunk_from_a_non_conforming_writer() -> None:
    body = (
        b"AIGC\x00"
        + json.dumps({**AIGC, "ContentProducer": "某某科技"}, ensure_ascii=False).encode()
    )
    chunk = (
        struct.pack(">I", len(body))
        + b"tEXt"
        + body
        + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    )
    png = _png()
    data = png[:33] + chunk + png[33:]  # after IHDR
    assert _only(read_provenance(data), "tc260_aigc").details["ContentProducer"] == "某某科技"


def test_c2pa_manifest_store_json_interpretation() -> None:
    """The JSON path alone, as c2pa-python's Reader.json() shapes it (incl. IPTC assertion)."""
    store = {
        "active_manifest": "urn:c2pa:active",
        "manifests": {
            "urn:c2pa:active": {
                "claim_generator_info": [{"name": "Adobe Photoshop", "version": "26.0"}],
                "assertions": [
                    {
                        "label": "c2pa.actions.v2",
                        "data": {
                            "actions": [
                                {"action": "c2pa.opened"},
                                {
                                    "action": "c2pa.edited",
                                    "digitalSourceType": IPTC
                                    + "compositeWithTrainedAlgorithmicMedia",
                                    "softwareAgent": "Generative Fill",
                                },
                            ]
                        },
                    },
                    {
                        "label": "stds.iptc.photo-metadata",
                        "data": {"Iptc4xmpExt:DigitalSourceType": IPTC + "trainedAlgorithmicMedia"},
                    },
                ],
                "signature_info": {
                    "issuer": "Adobe Inc.",
                    "common_name": "Adobe Content Credentials",
                },
            },
            "urn:c2pa:ingredient": {
                "claim_generator": "Camera/1.0",
                "assertions": [
                    {
                        "label": "c2pa.actions",
                        "data": {
                            "actions": [
                                {
                                    "action": "c2pa.created",
                                    "digitalSourceType": IPTC + "digitalCapture",
                                }
                            ]
                        },
                    }
                ],
            },
        },
        "validation_state": "Trusted",
    }

    found = labels_from_c2pa_store(store)
    labels = [label for label in found if label.code == "c2pa_ai"]

    assert [label.details["digital_source_type"] for label in labels] == [
        "compositeWithTrainedAlgorithmicMedia",
        "trainedAlgorithmicMedia",
    ]
    assert labels[0].details["software_agent"] == "Generative Fill"
    assert labels[0].details["claim_generator"] == "Adobe Photoshop 26.0"
    assert labels[0].details["validation_state"] == "Trusted"
    assert labels[1].details["assertion_path"] == "assertions[1].data.Iptc4xmpExt:DigitalSourceType"
    # The active manifest's c2pa.edited action is an edit by the agent it names.
    edit = _only(found, "editing_software")
    assert (edit.field, edit.value) == ("softwareAgent", "Generative Fill")
    assert edit.details["actions"] == ["c2pa.edited"]
    assert labels_from_c2pa_store({}) == []
    assert labels_from_c2pa_store({"manifests": ["junk"]}) == []
    _assert_json_safe(labels)
