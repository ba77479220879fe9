"""Webhooks: signed POSTs to a real HTTP receiver, retried until answered, logged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse

from api import services, signing
from api.models import WebhookDelivery
from disputes import services as dispute_services
from tests.disputes.factories import scored_dispute
from tests.factories import ReviewerFactory

pytestmark = pytest.mark.django_db


class Receiver:
    """A local endpoint that records what it gets and answers with scripted codes."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(autouse=True)
def _eager_retries() -> Iterator[None]:
    """Eager tasks retry in-process (at once, no countdown) instead of raising Retry."""
    from config.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made: list[Receiver] = []

    def make(codes: list[int]) -> Receiver:
        made.append(Receiver(codes))
        return made[-1]

    yield make  # type: ignore[misc]
    for r in made:
        r.server.shutdown()


def test_decision_is_posted_signed_to_the_endpoint(
    api, receiver, django_capture_on_commit_callbacks
):
    hook = receiver([])
    endpoint = services.webhook_endpoint_create(merchant=api.merchant, actor=api.user, url=hook.url)
    dispute = scored_dispute("high", merchant=api.merchant)
    with django_capture_on_commit_callbacks(execute=True):
        dispute_services.dispute_decide(
            dispute=dispute,
            actor=ReviewerFactory().user,
            outcome="claim_rejected",
            note="Edited listing photo",
        )
    assert len(hook.received) == 1
    headers, body = hook.received[0]
    assert signing.verify(endpoint.secret, body, headers["RefundGuard-Signature"])
    assert not signing.verify("whsec_wrong", body, headers["RefundGuard-Signature"])
    event = json.loads(body)
    assert event["type"] == "dispute.decided" == headers["RefundGuard-Event"]
    assert event["data"]["dispute"]["decision"]["outcome"] == "claim_rejected"
    assert event["id"] == headers["RefundGuard-Delivery"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 1


def test_failed_deliveries_are_retried_then_logged(
    api, receiver, django_capture_on_commit_callbacks
):
    hook = receiver([500, 503])
    services.webhook_endpoint_create(merchant=api.merchant, actor=api.user, url=hook.url)
    dispute = scored_dispute("low", merchant=api.merchant)
    with django_capture_on_commit_callbacks(execute=True):
        dispute_services.dispute_decide(
            dispute=dispute, actor=ReviewerFactory().user, outcome="refund_approved", note=""
        )
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 3
    bodies = {body for _, body in hook.received}
    assert len(hook.received) == 3 and len(bodies) == 1  # the same event each time


def test_unreachable_endpoint_ends_failed_with_the_reason(api, django_capture_on_commit_callbacks):
    services.webhook_endpoint_create(
        merchant=api.merchant, actor=api.user, url="http://127.0.0.1:9/nothing-listens"
    )
    dispute = scored_dispute("low", merchant=api.merchant)
    with django_capture_on_commit_callbacks(execute=True):
        dispute_services.dispute_decide(
            dispute=dispute, actor=ReviewerFactory().user, outcome="refund_approved", note=""
        )
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 9
    assert "ConnectionError" in delivery.last_error


def test_analysis_completed_event_after_the_last_photo(
    api, receiver, django_capture_on_commit_callbacks
):
    from tests.disputes.fixtures import jpeg_bytes, open_dispute, sample

    hook = receiver([])
    services.webhook_endpoint_create(merchant=api.merchant, actor=api.user, url=hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api.merchant, [(jpeg_bytes(sample("coffee")), "a.jpg")])
    types = [json.loads(body)["type"] for _, body in hook.received]
    assert types == ["dispute.analysis_completed"]
    event = json.loads(hook.received[0][1])
    assert event["data"]["dispute"]["status"] == "needs_review"
    assert event["data"]["dispute"]["claim_images"][0]["reasons"]


def test_signature_rejects_stale_or_tampered_messages():
    header = signing.signature_header("whsec_x", b'{"a":1}', timestamp=1_000_000)
    assert signing.verify("whsec_x", b'{"a":1}', header, now=1_000_100)
    assert not signing.verify("whsec_x", b'{"a":2}', header, now=1_000_100)
    assert not signing.verify("whsec_x", b'{"a":1}', header, now=1_000_000 + 301)
    assert not signing.verify("whsec_x", b'{"a":1}', "garbage", now=1_000_100)


def test_integrations_page_for_owners_only(client, api):
    from core.models import Membership
    from tests.factories import MembershipFactory

    client.force_login(api.user)
    page = client.get(reverse("integrations:home"))
    assert page.status_code == 200 and "ERP" in page.content.decode()
    # The signature header's placeholders are shown, not swallowed as HTML tags.
    assert "RefundGuard-Signature: t=&lt;unix time&gt;,v1=&lt;HMAC-SHA256" in page.content.decode()
    created = client.post(reverse("integrations:token_create"), {"name": "Warehouse"})
    assert created.status_code == 201
    html = created.content.decode()
    secret = html.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("rg_") and created["Cache-Control"] == "no-store"
    assert secret not in client.get(reverse("integrations:home")).content.decode()
    hook = client.post(reverse("integrations:webhook_create"), {"url": "https://erp.example.com/h"})
    assert hook.status_code == 201 and "whsec_" in hook.content.decode()
    bad = client.post(reverse("integrations:webhook_create"), {"url": "ftp://x"})
    assert bad.status_code == 400
    agent = MembershipFactory(merchant=api.merchant, role=Membership.Role.AGENT).user
    client.force_login(agent)
    assert client.get(reverse("integrations:home")).status_code == 403
    assert client.post(reverse("integrations:token_create"), {"name": "x"}).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/hook",
        "http://127.0.0.1:8000/hook",
        "https://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:192.168.1.1]/hook",
        "https://no-such-host.invalid/hook",
    ],
)
def test_private_or_unresolvable_destinations_are_refused(api, settings, url):
    from django.core.exceptions import ValidationError

    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError):
        services.webhook_endpoint_create(merchant=api.merchant, actor=api.user, url=url)
    assert not api.merchant.webhooks.exists()


def test_public_destination_is_accepted(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    endpoint = services.webhook_endpoint_create(
        merchant=api.merchant, actor=api.user, url="https://93.184.216.34/hook"
    )
    assert endpoint.pk


def test_delivery_rechecks_the_destination_and_does_not_retry_a_refused_one(
    api, receiver, settings, django_capture_on_commit_callbacks
):
    hook = receiver([])
    services.webhook_endpoint_create(merchant=api.merchant, actor=api.user, url=hook.url)
    settings.WEBHOOK_ALLOW_PRIVATE = False  # e.g. the name now resolves somewhere private
    dispute = scored_dispute("low", merchant=api.merchant)
    with django_capture_on_commit_callbacks(execute=True):
        dispute_services.dispute_decide(
            dispute=dispute, actor=ReviewerFactory().user, outcome="refund_approved", note=""
        )
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 1
    assert "private or reserved" in delivery.last_error
    assert hook.received == []


@pytest.mark.parametrize(
    "url", ["http://[::1]:99999/x", "https://example.com:0/x", "https://:8080/x"]
)
def test_a_malformed_destination_is_refused_even_where_private_ones_are_allowed(api, settings, url):
    from django.core.exceptions import ValidationError

    settings.WEBHOOK_ALLOW_PRIVATE = True
    with pytest.raises(ValidationError):
        services.webhook_endpoint_create(merchant=api.merchant, actor=api.user, url=url)
    assert not api.merchant.webhooks.exists()


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 of 169.254.169.254
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "::ffff:10.0.0.5",  # IPv4-mapped
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
    ],
)
def test_ipv6_forms_of_private_ipv4_addresses_are_refused(api, settings, monkeypatch, address):
    from django.core.exceptions import ValidationError

    from api import destinations

    settings.WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(
        destinations.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(10, 1, 6, "", (address, port, 0, 0))],
    )
    assert not destinations.address_is_public(address)
    with pytest.raises(ValidationError, match="private or reserved"):
        services.webhook_endpoint_create(
            merchant=api.merchant, actor=api.user, url="https://hooks.example.com/x"
        )


def test_ipv6_forms_of_public_ipv4_addresses_stay_allowed():
    from api.destinations import address_is_public

    assert address_is_public("64:ff9b::5db8:d822")  # NAT64 of 93.184.216.34
    assert address_is_public("2606:4700:4700::1111")


def test_a_delivery_connects_to_the_address_it_checked_not_a_rebound_one(
    api, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """DNS rebinding: the name resolves to the checked address, then to another one.
    The POST must reach the checked address, with the name in its Host header."""
    from api import destinations

    checked = receiver([])  # on 127.0.0.1
    rebound = receiver([])
    rebound.server.shutdown()
    rebound.server.server_close()
    other = HTTPServer(
        ("127.0.0.2", checked.server.server_port), rebound.server.RequestHandlerClass
    )
    threading.Thread(target=other.serve_forever, daemon=True).start()
    port = checked.server.server_port
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)
    real_getaddrinfo = destinations.socket.getaddrinfo

    def rebinding(host: str, *args: object, **kwargs: object) -> object:
        if host != "hooks.example.test":
            return real_getaddrinfo(host, *args, **kwargs)
        return [(2, 1, 6, "", (next(answers), port))]

    monkeypatch.setattr(destinations.socket, "getaddrinfo", rebinding)
    monkeypatch.setattr("socket.getaddrinfo", rebinding)
    # Stand-ins for a public address (checked) and a private one (rebound to).
    stand_in = lambda address: address == "127.0.0.1"  # noqa: E731
    monkeypatch.setattr(destinations, "address_is_public", stand_in, raising=False)
    monkeypatch.setattr(destinations, "_is_public", stand_in, raising=False)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    endpoint = api.merchant.webhooks.create(
        url=f"http://hooks.example.test:{port}/hooks", secret="s" * 32, created_by=api.user
    )
    dispute = scored_dispute("low", merchant=api.merchant)
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)  # the delivery's own lookup first
    with django_capture_on_commit_callbacks(execute=True):
        dispute_services.dispute_decide(
            dispute=dispute, actor=ReviewerFactory().user, outcome="refund_approved", note=""
        )
    other.shutdown()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == "succeeded", delivery.last_error
    assert len(checked.received) == 1 and rebound.received == []
    assert checked.received[0][0]["Host"] == f"hooks.example.test:{port}"


def test_https_to_a_pinned_address_still_checks_the_certificate_for_the_name(tmp_path):
    """The connection goes to the checked address while TLS sends and verifies the name."""
    import datetime as dt
    import ssl

    import urllib3
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from api.destinations import Destination
    from api.webhooks import pinned_post

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.test")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    try:
        good = Destination("https", "hooks.example.test", port, "127.0.0.1", "/h")
        assert pinned_post(good, body=b"{}", headers={}, timeout=5, ca_certs=str(cert_path)) == 204
        assert seen == [f"hooks.example.test:{port}"]
        wrong = Destination("https", "other.example.test", port, "127.0.0.1", "/h")
        with pytest.raises(urllib3.exceptions.HTTPError):
            pinned_post(wrong, body=b"{}", headers={}, timeout=5, ca_certs=str(cert_path))
    finally:
        server.shutdown()
