"""Hostile "videos" must never make the server open a URL or another file.

Each payload names a loopback HTTP receiver the test runs; the receiver must see no
request whichever way the file arrives (a path or a file object, the engine, the API,
the web form).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.models import PackingVideo
from forensics import keyframes as fr
from forensics.errors import MediaRejected
from tests.conftest import stored_names
from tests.factories import MembershipFactory


@dataclass
class Receiver:
    """A loopback HTTP server that records every request it gets."""

    port: int
    paths: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(404)
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found = Receiver(server.server_address[1], seen)
    yield found
    server.shutdown()
    server.server_close()


def _mp4_box(kind: bytes, body: bytes) -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


def hostile_payloads(url: str) -> dict[str, bytes]:
    """Files that ask FFmpeg to fetch ``url`` (or to listen on a port), by demuxer."""
    hls = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{url}/hls.mp4\n#EXT-X-ENDLIST\n"
    master = f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n{url}/master.m3u8\n"
    sdp = (
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=pack\nc=IN IP4 127.0.0.1\nt=0 0\n"
        "m=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
    )
    concat = f"ffconcat version 1.0\nfile '{url}/concat.mp4'\n"
    plain_concat = f"file '{url}/concat2.mp4'\n"
    subfile = f"subfile,,start,0,end,100,,:{url}/subfile.mp4"
    # An ISO box header in front of a playlist: sniffed as MP4, must still fetch nothing.
    boxed = _mp4_box(b"ftyp", b"isom\x00\x00\x02\x00isom") + hls.encode()
    # A QuickTime data reference pointing at the receiver (FFmpeg's "dref" support).
    url_atom = _mp4_box(b"url ", b"\x00\x00\x00\x00" + f"{url}/dref.mov".encode() + b"\x00")
    dref = _mp4_box(b"dref", b"\x00\x00\x00\x00\x00\x00\x00\x01" + url_atom)
    moov = _mp4_box(b"moov", _mp4_box(b"trak", _mp4_box(b"mdia", _mp4_box(b"minf",
        _mp4_box(b"dinf", dref)))))  # fmt: skip
    dref_mov = _mp4_box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ") + moov
    return {
        "hls": hls.encode(),
        "hls_master": master.encode(),
        "sdp": sdp.encode(),
        "ffconcat": concat.encode(),
        "concat": plain_concat.encode(),
        "subfile": subfile.encode(),
        "boxed_playlist": boxed,
        "dref_mov": dref_mov,
    }


PAYLOADS = list(hostile_payloads("http://x"))


@pytest.mark.parametrize("name", PAYLOADS)
@pytest.mark.parametrize("as_path", [True, False], ids=["path", "file_object"])
@pytest.mark.parametrize("suffix", [".mp4", ".m3u8", ".M3U8", ".m3u", ".sdp"])
def test_the_engine_refuses_playlists_and_fetches_nothing(
    receiver, tmp_path, name, as_path, suffix
):
    data = hostile_payloads(receiver.url)[name]
    path = tmp_path / f"upload{suffix}"
    path.write_bytes(data)
    source = str(path) if as_path else io.BytesIO(data)
    started = time.monotonic()

    with pytest.raises(MediaRejected):
        fr.probe_video(source, max_seconds=600)
    with pytest.raises(MediaRejected):
        list(fr.extract_keyframes(source, per_minute=20, min_spacing_seconds=1))

    assert receiver.paths == []
    assert time.monotonic() - started < 5  # an SDP session would wait for packets


def test_the_sniffer_lets_only_mp4_and_matroska_through():
    assert fr.sniff_container(_mp4_box(b"ftyp", b"isom")) == "mov"
    assert fr.sniff_container(b"\x1a\x45\xdf\xa3\x01\x00") == "matroska"
    for head in [b"#EXTM3U\n", b"v=0\r\n", b"ffconcat", b"\xff\xd8\xff\xe0", b"", b"RIFF"]:
        with pytest.raises(MediaRejected, match="not a video we can read"):
            fr.sniff_container(head)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["hls", "sdp", "ffconcat", "boxed_playlist", "dref_mov"])
def test_the_api_and_the_web_form_refuse_a_playlist_without_fetching(receiver, client, name):
    from rest_framework.test import APIClient

    from api import services as api_services

    member = MembershipFactory()
    data = hostile_payloads(receiver.url)[name]
    issued = api_services.token_create(merchant=member.merchant, actor=member.user, name="ERP")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    for upload_name in ["pack.m3u8", "pack.mp4"]:
        answer = api.post(
            "/api/v1/videos/",
            {"order_ref": "ORD-1", "file": SimpleUploadedFile(upload_name, data)},
            format="multipart",
        )
        assert answer.status_code == 400, answer.content

    client.force_login(member.user)
    page = client.post(
        "/evidence/videos/",
        {"order_ref": "ORD-2", "file": SimpleUploadedFile("pack.mp4", data)},
        HTTP_ACCEPT="application/json",
    )
    assert page.status_code == 400, page.content

    assert receiver.paths == []
    assert not PackingVideo.objects.exists()
    assert stored_names() == []
