"""Tokens: hashed, revocable, per merchant. Every route answers another merchant's ids
with 404, for every verb; no token, a bad or a revoked token is 401."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver
from rest_framework.test import APIClient

from api import services
from api.models import ApiToken, ChunkedUpload
from core.models import Membership
from disputes.models import Dispute
from evidence.models import PackingVideo, Product, ReferencePhoto
from packs.models import EvidencePack
from tests.disputes.factories import DisputeFactory
from tests.disputes.fixtures import jpeg_bytes, reference_photo, sample

pytestmark = pytest.mark.django_db


def test_tokens_are_stored_hashed_and_shown_once(api):
    token = ApiToken.objects.get()
    assert api.secret not in (token.key_hash, token.prefix)
    assert token.key_hash == hashlib.sha256(api.secret.encode()).hexdigest()
    assert api.client.get("/api/v1/products/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [None, "Bearer rg_nope", "Bearer rg_deadbeef_wrongsecret", "Token abc", "Bearer "],
)
def test_missing_or_bad_tokens_are_401(db, header):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/disputes/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_stops_at_once(api):
    services.token_revoke(token=ApiToken.objects.get(), actor=api.user)
    assert api.client.get("/api/v1/products/").status_code == 401


def test_token_stops_when_its_owner_leaves_the_merchant(api):
    Membership.objects.filter(user=api.user).delete()
    assert api.client.get("/api/v1/products/").status_code == 401


def test_only_owners_issue_tokens(db):
    from django.core.exceptions import PermissionDenied

    from tests.factories import MembershipFactory

    agent = MembershipFactory(role=Membership.Role.AGENT)
    with pytest.raises(PermissionDenied):
        services.token_create(merchant=agent.merchant, actor=agent.user, name="x")


def _objects_of(api) -> dict[str, object]:
    """One object of every kind the API addresses by id, owned by ``api``'s merchant."""
    product = Product.objects.create(merchant=api.merchant, sku="A-1", title="A")
    photo = reference_photo(product, sample("coffee"))
    video = PackingVideo.objects.create(
        merchant=api.merchant,
        file="x.mp4",
        original_name="x.mp4",
        sha256="a" * 64,
        size_bytes=1,
        content_type="video/mp4",
        order_ref="O-1",
        container="mp4",
        codec="h264",
        width=1,
        height=1,
        duration_seconds=1,
    )
    dispute = DisputeFactory(merchant=api.merchant)
    upload = services.upload_start(merchant=api.merchant, actor=api.user, filename="v.mp4", size=10)
    pack = EvidencePack.objects.create(dispute=dispute, requested_by=api.user, status="ready")
    return {
        "product": product,
        "photo": photo,
        "video": video,
        "dispute": dispute,
        "upload": upload,
        "evidence-pack": pack,
    }


def _detail_routes() -> list[tuple[str, str]]:
    """Every API route with an object id: (route pattern, kind of object)."""
    kinds = {
        "product": "product",
        "photo": "photo",
        "video": "video",
        "dispute": "dispute",
        "upload": "upload",
        "evidence-pack": "evidence-pack",
    }
    found = []
    api_resolver = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/")
    for version in api_resolver.url_patterns:
        for include in getattr(version, "url_patterns", []):
            for pattern in getattr(include, "url_patterns", [include]):
                route = str(pattern.pattern)
                if "<pk>" in route or "(?P<pk>" in route:
                    name = pattern.name or ""
                    kind = next(k for k in kinds if name.startswith(k + "-"))
                    found.append((name, kind))
    return sorted(set(found))


def test_every_object_route_is_in_the_matrix():
    names = {name for name, _ in _detail_routes()}
    assert names == {
        "product-detail",
        "product-photos",
        "photo-detail",
        "video-detail",
        "upload-detail",
        "dispute-detail",
        "dispute-claim-images",
        "dispute-statement",
        "dispute-decisions",
        "dispute-evidence-packs",
        "evidence-pack-detail",
        "evidence-pack-pdf",
        "evidence-pack-zip",
    }, "a new API route with an id needs a row in test_other_merchant_gets_404_everywhere"


def test_other_merchant_gets_404_everywhere(api, other_api):
    from django.urls import reverse

    objects = _objects_of(api)
    for name, kind in _detail_routes():
        url = reverse(f"api:{name}", args=[objects[kind].pk])
        for verb in ("get", "post", "put", "patch", "delete"):
            response = getattr(other_api.client, verb)(
                url,
                {"photos": [SimpleUploadedFile("a.jpg", jpeg_bytes(sample("coffee")))]}
                if verb == "post"
                else {},
                format="multipart" if verb == "post" else "json",
            )
            assert response.status_code in (404, 405), (name, verb, response.status_code)
            if response.status_code == 405:
                # The verb is not offered on this route at all, for anyone.
                mine = getattr(api.client, verb)(url, {}, format="json")
                assert mine.status_code == 405, (name, verb)
    # Nothing of the first merchant changed.
    dispute = objects["dispute"]
    assert Dispute.objects.get(pk=dispute.pk).merchant_statement == ""
    assert dispute.claim_images.count() == 0
    assert ReferencePhoto.objects.filter(merchant=other_api.merchant).count() == 0
    assert ChunkedUpload.objects.get(pk=objects["upload"].pk).offset == 0
    assert EvidencePack.objects.count() == 1


def test_lists_show_only_the_token_merchant(api, other_api):
    _objects_of(api)
    for url in ["/api/v1/products/", "/api/v1/photos/", "/api/v1/videos/", "/api/v1/disputes/"]:
        assert other_api.client.get(url).json()["results"] == [], url
        assert api.client.get(url).json()["results"] != [], url


def test_anonymous_gets_401_on_every_object_route_and_verb(api):
    from django.urls import reverse

    objects = _objects_of(api)
    anonymous = APIClient()
    for name, kind in _detail_routes():
        url = reverse(f"api:{name}", args=[objects[kind].pk])
        for verb in ("get", "post", "put", "patch", "delete"):
            response = getattr(anonymous, verb)(url, {}, format="json")
            assert response.status_code in (401, 405), (name, verb, response.status_code)
            if response.status_code == 401:
                assert response.json()["error"]["code"] == "not_authenticated"


def test_refused_tokens_are_throttled_by_address_and_a_valid_token_is_not(api, monkeypatch):
    """Guessing secrets: past the rate of refused tokens, an address gets 429 (with
    Retry-After) before any lookup, whatever it sends; other addresses are not slowed."""
    from rest_framework.test import APIClient
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**SimpleRateThrottle.THROTTLE_RATES, "refused_token": "5/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    guesser = APIClient(REMOTE_ADDR="203.0.113.7")
    answers = [
        guesser.get("/api/v1/products/", HTTP_AUTHORIZATION=f"Bearer rg_guess{i}_xxxx").status_code
        for i in range(8)
    ]
    assert answers[:5] == [401] * 5 and answers[5:] == [429] * 3
    blocked = guesser.get("/api/v1/products/", HTTP_AUTHORIZATION=f"Bearer {api.secret}")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    # Valid tokens from elsewhere are never counted, however many.
    for _ in range(10):
        assert api.client.get("/api/v1/products/").status_code == 200


def test_a_photo_filter_on_another_merchants_product_answers_as_a_missing_one(api, other_api):
    from tests.factories import ProductFactory

    theirs = ProductFactory(merchant=other_api.merchant)
    other = api.client.get(f"/api/v1/photos/?product={theirs.pk}")
    missing = api.client.get("/api/v1/photos/?product=99999999")
    assert other.status_code == missing.status_code == 200
    assert other.json()["results"] == missing.json()["results"] == []
