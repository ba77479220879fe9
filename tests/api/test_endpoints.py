"""The REST API end to end through Django: create, read, filter, paginate, answer."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone

from api.serializers import FindingSerializer
from disputes.models import ClaimImage, Dispute
from evidence.models import PackingVideo, Product, ReferencePhoto
from tests.conftest import stored_names
from tests.disputes.factories import FindingFactory
from tests.disputes.fixtures import doctored, jpeg_bytes, sample
from tests.evidence.test_services import mp4

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def dispute_fields(**extra: object) -> dict[str, object]:
    return {
        "platform": "taobao",
        "external_id": "TB-API-1",
        "order_ref": "ORDER-1001",
        "buyer_ref": "tb_buyer_1",
        "claim_type": "refund_only",
        "reason": "Cracked",
        "amount": "129.00",
        "currency": "cny",
        "respond_by": (timezone.now() + timezone.timedelta(days=2)).isoformat(),
        **extra,
    }


def test_products_create_list_and_duplicate_sku(api):
    response = api.client.post("/api/v1/products/", {"sku": "MUG-1", "title": "Mug"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["sku"] == "MUG-1"
    again = api.client.post("/api/v1/products/", {"sku": "MUG-1"}, format="json")
    assert again.status_code == 400
    error = again.json()["error"]
    assert error["code"] == "validation_error" and "sku" in error["fields"]
    other_case = api.client.post("/api/v1/products/", {"sku": " mug-1 "}, format="json")
    assert other_case.status_code == 400
    assert "“MUG-1” already exists" in other_case.json()["error"]["message"]
    listing = api.client.get("/api/v1/products/").json()
    assert [p["sku"] for p in listing["results"]] == ["MUG-1"]
    assert set(listing) == {"next", "previous", "results"}


def test_photos_upload_each_file_gets_a_result(api):
    product = Product.objects.create(merchant=api.merchant, sku="MUG-1", title="Mug")
    response = api.client.post(
        f"/api/v1/products/{product.pk}/photos/",
        {
            "files": [
                upload("front.jpg", jpeg_bytes(sample("coffee"))),
                upload("again.jpg", jpeg_bytes(sample("coffee"))),
                upload("fake.jpg", b"<?php system($_GET['c']); ?>"),
            ]
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    results = {r["name"]: r for r in response.json()}
    assert results["front.jpg"]["status"] == "stored"
    assert results["again.jpg"]["status"] == "duplicate"
    assert results["fake.jpg"]["status"] == "rejected" and results["fake.jpg"]["message"]
    photo_id = results["front.jpg"]["photo"]["id"]
    detail = api.client.get(f"/api/v1/photos/{photo_id}/").json()
    assert detail["status"] in {"pending", "fingerprinted"}
    assert ReferencePhoto.objects.filter(merchant=api.merchant).count() == 1


def test_dispute_create_with_photos_and_read_the_analysis(api, django_capture_on_commit_callbacks):
    product = Product.objects.create(merchant=api.merchant, sku="MUG-1", title="Mug")
    with django_capture_on_commit_callbacks(execute=True):
        api.client.post(
            f"/api/v1/products/{product.pk}/photos/",
            {"files": [upload("front.jpg", jpeg_bytes(sample("coffee")))]},
            format="multipart",
        )
    claim, _ = doctored(sample("coffee"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.client.post(
            "/api/v1/disputes/",
            {
                **dispute_fields(product=product.pk),
                "photos": [
                    upload("broken.jpg", jpeg_bytes(claim)),
                    upload("other.jpg", jpeg_bytes(sample("rocket"))),
                ],
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["currency"] == "CNY" and len(body["claim_images"]) == 2
    detail = api.client.get(f"/api/v1/disputes/{body['id']}/").json()
    assert detail["status"] == "needs_review" and detail["risk_level"] == "high"
    flagged = next(i for i in detail["claim_images"] if i["original_name"] == "broken.jpg")
    assert flagged["findings"][0]["code"] == "derived_from_original"
    assert len(flagged["region"]) == 4


def test_dispute_with_a_bad_photo_is_refused_whole(api):
    before = set(stored_names())
    response = api.client.post(
        "/api/v1/disputes/",
        {
            **dispute_fields(),
            "photos": [
                upload("ok.jpg", jpeg_bytes(sample("coffee"))),
                upload("evil.jpg", b"GIF89a nope"),
            ],
        },
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "evil.jpg" in error["message"]
    assert Dispute.objects.count() == 0 and ClaimImage.objects.count() == 0
    assert set(stored_names()) == before


def test_a_photo_whose_name_sanitises_to_nothing_is_kept_not_dropped(api):
    # Django's parser skipped such parts: the dispute opened (201) without that photo.
    photos = [io.BytesIO(jpeg_bytes(sample(n))) for n in ("coffee", "rocket")]
    photos[0].name, photos[1].name = "ok.jpg", ".."  # type: ignore[attr-defined]
    body = encode_multipart(BOUNDARY, {**dispute_fields(), "photos": photos})
    response = api.client.generic("POST", "/api/v1/disputes/", body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 201, response.content
    names = sorted(i["original_name"] for i in response.json()["claim_images"])
    assert names == ["ok.jpg", "unnamed"]


def test_dispute_validation_errors_name_the_fields(api):
    response = api.client.post(
        "/api/v1/disputes/", {"platform": "ebay", "amount": "-3"}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"platform", "amount", "external_id", "respond_by"} <= set(fields)


def test_dispute_list_filters_orders_and_pages_by_cursor(api):
    for n in range(5):
        api.client.post(
            "/api/v1/disputes/",
            dispute_fields(external_id=f"TB-{n}", platform="jd" if n % 2 else "taobao"),
            format="multipart",
        )
    jd = api.client.get("/api/v1/disputes/", {"platform": "jd"}).json()["results"]
    assert sorted(d["external_id"] for d in jd) == ["TB-1", "TB-3"]
    first = api.client.get("/api/v1/disputes/", {"page_size": 2, "ordering": "id"}).json()
    assert [d["external_id"] for d in first["results"]] == ["TB-0", "TB-1"]
    second = api.client.get(first["next"]).json()
    assert [d["external_id"] for d in second["results"]] == ["TB-2", "TB-3"]
    mangled = api.client.get("/api/v1/disputes/", {"cursor": "garbage"})
    assert mangled.status_code == 400
    assert mangled.json()["error"]["message"] == "cursor: Invalid cursor"


def test_statement_claim_images_and_decisions(api):
    created = api.client.post("/api/v1/disputes/", dispute_fields(), format="multipart").json()
    url = f"/api/v1/disputes/{created['id']}/"
    response = api.client.post(
        url + "statement/", {"text": "Video shows it intact."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["merchant_statement"] == "Video shows it intact."
    added = api.client.post(
        url + "claim-images/",
        {"photos": [upload("more.jpg", jpeg_bytes(sample("astronaut")))]},
        format="multipart",
    )
    assert added.status_code == 201 and added.json()[0]["original_name"] == "more.jpg"
    assert api.client.get(url + "decisions/").json() == []
    assert api.client.post(url + "decisions/", {}, format="json").status_code == 405


def test_video_upload_in_one_request(api):
    response = api.client.post(
        "/api/v1/videos/",
        {"order_ref": "ORDER-9", "file": upload("pack.mp4", mp4(seconds=2))},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    video = PackingVideo.objects.get()
    assert response.json()["sha256"] == video.sha256 and video.order_ref == "ORDER-9"
    again = api.client.post(
        "/api/v1/videos/",
        {"order_ref": "ORDER-9", "file": upload("pack.mp4", mp4(seconds=2))},
        format="multipart",
    )
    assert again.status_code in (200, 201)


def test_unknown_routes_and_methods_answer_json(api):
    missing = api.client.get("/api/v1/disputes/999999/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert missing.json()["error"]["message"] == "Not found."  # no "detail: " prefix
    wrong = api.client.delete("/api/v1/products/")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_docs_and_schema_are_served_without_a_cdn(client):
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    redoc = client.get("/api/docs/redoc/")
    assert redoc.status_code == 200 and "drf_spectacular_sidecar/redoc" in redoc.content.decode()
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/disputes/" in spec["paths"]
    assert spec["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"
    sidecar = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert sidecar.status_code == 200


def test_time_filters_accept_any_iso_offset(api):
    api.client.post("/api/v1/disputes/", dispute_fields(), format="multipart")
    for value in ["2000-01-01T00:00:00-21:06", "2000-01-01T00:00:00+23:59", "0931-12-19T22:41:56Z"]:
        response = api.client.get("/api/v1/disputes/", {"respond_by_after": value})
        assert response.status_code == 200, (value, response.content)
        assert len(response.json()["results"]) == 1
    late = api.client.post(
        "/api/v1/disputes/",
        dispute_fields(external_id="TB-2", respond_by="2030-01-01T00:00:00-21:06"),
        format="multipart",
    )
    assert late.status_code == 201, late.content


def test_a_video_needs_a_file_or_an_upload_and_says_which(api):
    neither = api.client.post("/api/v1/videos/", {"order_ref": "ORD-1"}, format="multipart")
    assert neither.status_code == 400
    assert "the id of a finished chunked `upload`" in neither.json()["error"]["message"]


def test_a_dispute_opened_in_the_future_or_after_its_deadline_is_refused(api):
    now = timezone.now()

    def post(opened: int, respond_by: int):  # days from now
        fields = dispute_fields(
            external_id=f"TB-{opened}-{respond_by}",
            opened_at=(now + timezone.timedelta(days=opened)).isoformat(),
            respond_by=(now + timezone.timedelta(days=respond_by)).isoformat(),
        )
        return api.client.post("/api/v1/disputes/", fields, format="multipart")

    future = post(1, 3)
    assert future.status_code == 400 and "opened_at" in future.json()["error"]["fields"]
    backwards = post(-1, -3)
    assert backwards.status_code == 400 and "respond_by" in backwards.json()["error"]["fields"]
    late = post(-5, -3)
    assert late.status_code == 201  # entered after its deadline: kept, shown overdue
    assert not Dispute.objects.exclude(pk=late.json()["id"]).exists()


def test_dates_decades_away_are_refused_not_rendered_with_a_local_mean_time_offset(api):
    # Found by the schema fuzzer: a deadline in year 150 was stored and then rendered as
    # "+08:05:43", which is no ISO 8601 offset.
    ancient = api.client.post(
        "/api/v1/disputes/",
        dispute_fields(external_id="TB-150", respond_by="0150-12-31T03:32:08Z"),
        format="multipart",
    )
    assert ancient.status_code == 400
    assert "within ten years" in ancient.json()["error"]["fields"]["respond_by"][0]
    stale = api.client.post(
        "/api/v1/disputes/",
        dispute_fields(external_id="TB-1990", opened_at="1990-01-01T00:00:00Z"),
        format="multipart",
    )
    assert stale.status_code == 400 and "opened_at" in stale.json()["error"]["fields"]
    assert not Dispute.objects.exists()


def test_a_finding_speaks_to_the_tokens_merchant_rebuilt_from_its_evidence():
    # Stored by an older worker: rounded to the bar it is below.
    finding = FindingFactory(
        code="near_copy",
        message="Possibly your photo A.jpg: … (same-photograph score 0.94; … at least 0.94) …",
        evidence={"original_label": "A.jpg", "same_photo_score": 0.9449, "threshold": 0.945},
    )
    retired = FindingFactory(code="retired_kind", message="As stored.")

    message = FindingSerializer(finding).data["message"]

    assert message.startswith("Possibly your photo A.jpg: ")
    assert "(same-photograph score 0.944; an edited copy scores at least 0.945)" in message
    assert FindingSerializer(retired).data["message"] == "As stored."
