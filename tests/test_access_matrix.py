"""Access matrix generated from the URL resolver: for every web route that addresses an
object, another merchant, an anonymous visitor and a reviewer outside the merchant's
scope get 404/403 (or the login page, or 405) for every method, and change nothing. A new
route with an id and no entry here fails the test. (API routes: tests/api.)"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from api import services as api_services
from disputes.models import Dispute, InternalNote
from evidence.models import PackingVideo, VideoKeyframe
from packs.models import EvidencePack
from tests.disputes.factories import scored_dispute
from tests.disputes.fixtures import reference_photo, sample
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory, ReviewerFactory

#: URL keyword → which of merchant A's objects it names.
KWARG_OBJECT = {
    "product_id": "product",
    "photo_id": "photo",
    "video_id": "video",
    "keyframe_id": "keyframe",
    "dispute_id": "dispute",
    "claim_image_id": "claim_image",
    "token_id": "token",
    "endpoint_id": "endpoint",
    "pack_id": "pack",
}
EXPECTED_ROUTES = {
    "evidence:product_detail", "evidence:video_detail", "evidence:photo_file",
    "evidence:photo_thumbnail", "evidence:video_file", "evidence:keyframe_file",
    "disputes:detail", "disputes:decide", "disputes:photos_add", "disputes:note_add",
    "disputes:statement", "disputes:evidence_attach", "disputes:claim_retry",
    "disputes:claim_file", "disputes:claim_derived",
    "integrations:token_revoke", "integrations:webhook_delete",
    "packs:request", "packs:status", "packs:download",
}  # fmt: skip


def object_routes() -> list[tuple[str, list[str]]]:
    """(namespaced name, URL keywords) of every non-admin, non-API route with an id."""
    found = []

    def walk(patterns, namespace):  # type: ignore[no-untyped-def]
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern) in ("admin/", "api/"):
                    continue
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.pattern.converters:
                found.append((f"{namespace}:{p.name}", list(p.pattern.converters)))

    walk(get_resolver().url_patterns, None)
    return found


def test_every_object_route_is_in_the_matrix():
    names = {name for name, _ in object_routes()}
    assert names == EXPECTED_ROUTES, "a new route with an id needs its row in this matrix"
    for _, kwargs in object_routes():
        assert set(kwargs) <= {*KWARG_OBJECT, "kind"}


@pytest.fixture
def merchant_a(db):
    owner = MembershipFactory()
    merchant = owner.merchant
    product = ProductFactory(merchant=merchant)
    photo = reference_photo(product, sample("coffee"))
    video = PackingVideo.objects.create(
        merchant=merchant, file="originals/x.mp4", original_name="x.mp4", sha256="b" * 64,
        size_bytes=10, content_type="video/mp4", order_ref="O-1", container="mp4",
        codec="h264", width=2, height=2, duration_seconds=1, status=PackingVideo.Status.READY,
    )  # fmt: skip
    keyframe = VideoKeyframe.objects.create(
        video=video, t_seconds=0, image="derived/k.jpg", width=2, height=2, source_sha256="b" * 64
    )
    dispute = scored_dispute("high", merchant=merchant)
    token = api_services.token_create(merchant=merchant, actor=owner.user, name="t").token
    endpoint = api_services.webhook_endpoint_create(
        merchant=merchant, actor=owner.user, url="https://example.com/h"
    )
    return {
        "owner": owner.user,
        "merchant": merchant,
        "product": product,
        "photo": photo,
        "video": video,
        "keyframe": keyframe,
        "dispute": dispute,
        "claim_image": dispute.top_claim_image,
        "token": token,
        "endpoint": endpoint,
        "pack": EvidencePack.objects.create(
            dispute=dispute, requested_by=owner.user, status="ready", pdf="packs/x.pdf"
        ),
    }


def url_for(name: str, kwargs: list[str], objects: dict) -> str:
    kind = "pdf" if name.startswith("packs:") else "heatmap"
    values = {k: (kind if k == "kind" else objects[KWARG_OBJECT[k]].pk) for k in kwargs}
    return reverse(name, kwargs=values)


@pytest.mark.parametrize("who", ["other_merchant", "anonymous", "reviewer_out_of_scope"])
def test_outsiders_get_nothing_from_any_route_with_any_method(client, merchant_a, who):
    if who == "other_merchant":
        client.force_login(MembershipFactory().user)
    elif who == "reviewer_out_of_scope":
        client.force_login(ReviewerFactory(merchants=[MerchantFactory()]).user)
    for name, kwargs in object_routes():
        url = url_for(name, kwargs, merchant_a)
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)(url)
            allowed = {403, 404, 405}
            if who == "anonymous":
                allowed.add(302)
                if response.status_code == 302:
                    assert response["Location"].startswith(reverse("login")), (name, method)
            assert response.status_code in allowed, (who, name, method, response.status_code)
    dispute = Dispute.objects.get(pk=merchant_a["dispute"].pk)
    assert dispute.status == Dispute.Status.NEEDS_REVIEW and dispute.merchant_statement == ""
    assert not InternalNote.objects.exists()
    merchant_a["token"].refresh_from_db()
    assert merchant_a["token"].revoked_at is None
    assert merchant_a["merchant"].webhooks.count() == 1
    assert EvidencePack.objects.count() == 1


def test_the_owner_reaches_their_own_objects(client, merchant_a):
    client.force_login(merchant_a["owner"])
    for name in ("evidence:product_detail", "disputes:detail", "evidence:photo_file"):
        kwargs = next(k for n, k in object_routes() if n == name)
        assert client.get(url_for(name, kwargs, merchant_a)).status_code == 200, name
