"""Evidence pages through Django's test client: scoping, uploads, files, languages."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evidence import services
from evidence.models import Product, ReferencePhoto
from tests.evidence.test_services import jpeg, mp4
from tests.factories import MembershipFactory, ProductFactory


@pytest.fixture
def owner_client(client, membership):
    client.force_login(membership.user)
    return client


@pytest.fixture
def evidence_of_a(membership, settings):
    """A product, a fingerprinted photo, and a processed video with keyframes."""
    settings.KEYFRAME_MIN_SPACING_SECONDS = 1.0
    product = ProductFactory(merchant=membership.merchant)
    photo = services.photo_ingest(
        product=product, upload=ContentFile(jpeg(), name="a.jpg"), filename="a.jpg", uploader=None
    ).obj
    services.photo_fingerprint(photo_id=photo.pk)
    video = services.video_ingest(
        merchant=membership.merchant,
        order_ref="A-1",
        upload=ContentFile(mp4(), name="A-1.mp4"),
        filename="A-1.mp4",
        uploader=None,
    ).obj
    video = services.video_process(video_id=video.pk)
    return {
        "product": product,
        "photo": photo,
        "video": video,
        "keyframe": video.keyframes.first(),
    }


def object_urls(evidence: dict) -> list[str]:
    return [
        reverse("evidence:product_detail", args=[evidence["product"].pk]),
        reverse("evidence:photo_file", args=[evidence["photo"].pk]),
        reverse("evidence:photo_thumbnail", args=[evidence["photo"].pk]),
        reverse("evidence:video_detail", args=[evidence["video"].pk]),
        reverse("evidence:video_file", args=[evidence["video"].pk]),
        reverse("evidence:keyframe_file", args=[evidence["keyframe"].pk]),
    ]


@pytest.mark.django_db
def test_owner_can_open_every_object_url(owner_client, evidence_of_a):
    for url in object_urls(evidence_of_a):
        response = owner_client.get(url)
        assert response.status_code == 200, url


@pytest.mark.django_db
def test_another_merchant_gets_404_on_every_object_url(client, evidence_of_a):
    intruder = MembershipFactory()
    client.force_login(intruder.user)
    for url in object_urls(evidence_of_a):
        assert client.get(url).status_code == 404, url
    upload = SimpleUploadedFile("x.jpg", jpeg(), content_type="image/jpeg")
    response = client.post(
        reverse("evidence:product_detail", args=[evidence_of_a["product"].pk]), {"files": [upload]}
    )
    assert response.status_code == 404
    assert ReferencePhoto.objects.count() == 1


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, evidence_of_a):
    for url in object_urls(evidence_of_a):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.django_db
def test_status_endpoint_reveals_only_own_photos(client, evidence_of_a):
    client.force_login(MembershipFactory().user)
    response = client.get(reverse("evidence:photo_status"), {"ids": str(evidence_of_a["photo"].pk)})
    assert response.json() == {"photos": []}


@pytest.mark.django_db
def test_status_endpoint_ignores_ids_no_database_key_can_hold(owner_client, evidence_of_a):
    photo = evidence_of_a["photo"]
    ids = f"9223372036854775808,-4,0,abc,{photo.pk}"
    response = owner_client.get(reverse("evidence:photo_status"), {"ids": ids})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["photos"]] == [photo.pk]


@pytest.mark.django_db
def test_files_are_served_with_nosniff_and_downloads_as_attachment(owner_client, evidence_of_a):
    photo = evidence_of_a["photo"]
    url = reverse("evidence:photo_file", args=[photo.pk])
    response = owner_client.get(url, {"download": "1"})
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == jpeg()


@pytest.mark.django_db
def test_json_upload_gives_one_result_per_file(owner_client, membership):
    product = ProductFactory(merchant=membership.merchant)
    url = reverse("evidence:product_detail", args=[product.pk])
    good = SimpleUploadedFile("front.jpg", jpeg(), content_type="image/jpeg")
    response = owner_client.post(url, {"files": [good]}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["status"] == "stored"
    again = SimpleUploadedFile("copy.jpg", jpeg(), content_type="image/jpeg")
    response = owner_client.post(url, {"files": [again]}, headers={"Accept": "application/json"})
    assert response.json()["status"] == "duplicate"
    bad = SimpleUploadedFile("evil.jpg", b"<html></html>", content_type="image/jpeg")
    response = owner_client.post(url, {"files": [bad]}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["status"] == "rejected"
    assert "not a JPEG" in response.json()["message"]


@pytest.mark.django_db
def test_json_upload_answers_with_what_the_photo_card_shows(owner_client, membership):
    import hashlib

    product = ProductFactory(merchant=membership.merchant)
    url = reverse("evidence:product_detail", args=[product.pk])
    data = jpeg("rocket")
    upload = SimpleUploadedFile("rocket.jpg", data, content_type="image/jpeg")
    photo = owner_client.post(url, {"files": [upload]}, headers={"Accept": "application/json"})
    facts = photo.json()["photo"]
    assert facts["sha256"] == hashlib.sha256(data).hexdigest()
    assert (facts["width"], facts["height"], facts["size_bytes"]) == (640, 427, len(data))
    assert facts["size_label"].replace("\xa0", " ").endswith("KB")
    # The server's card (after a reload) shows the same facts.
    page = owner_client.get(url).content.decode()
    assert facts["sha256"][:12] in page and facts["size_label"] in page and "640×427" in page


@pytest.mark.django_db
def test_form_upload_of_several_files_lists_each_result(owner_client, membership):
    product = ProductFactory(merchant=membership.merchant)
    files = [
        SimpleUploadedFile("one.jpg", jpeg("coffee"), content_type="image/jpeg"),
        SimpleUploadedFile("two.jpg", jpeg("rocket"), content_type="image/jpeg"),
        SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg"),
    ]
    response = owner_client.post(
        reverse("evidence:product_detail", args=[product.pk]), {"files": files}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("result-stored") == 2
    assert "result-rejected" in html and "empty" in html
    assert product.photos.count() == 2


@pytest.mark.django_db
def test_form_upload_keeps_a_file_whose_name_sanitises_to_nothing(owner_client, membership):
    # Django's parser skipped such a part: the page listed one photo of the two sent.
    product = ProductFactory(merchant=membership.merchant)
    photos = [io.BytesIO(jpeg(n)) for n in ("coffee", "rocket")]
    photos[0].name, photos[1].name = "one.jpg", ".."  # type: ignore[attr-defined]
    response = owner_client.post(
        reverse("evidence:product_detail", args=[product.pk]), {"files": photos}
    )
    assert response.status_code == 200
    assert response.content.decode().count("result-stored") == 2
    assert sorted(product.photos.values_list("original_name", flat=True)) == ["one.jpg", "unnamed"]


@pytest.mark.django_db
def test_product_create_and_duplicate_sku_error(owner_client, membership):
    url = reverse("evidence:product_create")
    response = owner_client.post(url, {"sku": "TEA-1", "title": "Green tea"})
    assert response.status_code == 302
    assert Product.objects.get(sku="TEA-1").merchant == membership.merchant
    response = owner_client.post(url, {"sku": "TEA-1", "title": "Again"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


@pytest.mark.django_db
def test_video_upload_rejects_non_video_with_form_error(owner_client):
    fake = SimpleUploadedFile("ORDER-9.mp4", b"not a video at all", content_type="video/mp4")
    response = owner_client.post(
        reverse("evidence:video_list"), {"order_ref": "ORDER-9", "file": fake}
    )
    assert response.status_code == 400
    assert "not a video we can read" in response.content.decode()


@pytest.mark.django_db
def test_video_upload_answers_the_page_script_in_json(owner_client):
    from tests.evidence.test_services import mp4

    url = reverse("evidence:video_list")
    fake = SimpleUploadedFile("ORDER-9.mp4", b"not a video at all", content_type="video/mp4")
    refused = owner_client.post(
        url, {"order_ref": "ORDER-9", "file": fake}, HTTP_ACCEPT="application/json"
    )
    assert refused.status_code == 400
    assert "not a video we can read" in refused.json()["message"]
    assert "not a video we can read" in refused.json()["errors"]["file"][0]

    video = mp4(seconds=2)
    stored = owner_client.post(
        url,
        {"order_ref": "ORDER-10", "file": SimpleUploadedFile("a.mp4", video)},
        HTTP_ACCEPT="application/json",
    )
    detail = stored.json()["redirect"]
    # The message waits for the page the script opens next.
    assert "Video stored" in owner_client.get(detail).content.decode()
    again = owner_client.post(
        url,
        {"order_ref": "ORDER-11", "file": SimpleUploadedFile("b.mp4", video)},
        HTTP_ACCEPT="application/json",
    )
    assert again.json()["redirect"] == detail
    assert "already stored (order ORDER-10)" in owner_client.get(detail).content.decode()


@pytest.mark.django_db
def test_video_page_shows_keyframe_strip_with_timestamps(owner_client, evidence_of_a):
    response = owner_client.get(reverse("evidence:video_detail", args=[evidence_of_a["video"].pk]))
    html = response.content.decode()
    assert "keyframe-strip" in html
    assert "1.0 s" in html and "3.0 s" in html


@pytest.mark.django_db
def test_pages_switch_to_simplified_chinese(owner_client, evidence_of_a):
    response = owner_client.post(
        reverse("set_language"), {"language": "zh-hans", "next": "/evidence/"}
    )
    assert response.status_code == 302
    html = owner_client.get(reverse("evidence:home")).content.decode()
    assert 'lang="zh-hans"' in html
    assert "证据库" in html


@pytest.mark.django_db
def test_admin_lists_every_model(admin_client, evidence_of_a):
    for model in ["core_merchant", "core_membership", "core_reviewer", "core_auditevent",
                  "evidence_product", "evidence_referencephoto", "evidence_packingvideo",
                  "evidence_videokeyframe", "evidence_fingerprint"]:  # fmt: skip
        response = admin_client.get(reverse(f"admin:{model}_changelist"))
        assert response.status_code == 200, model
    photo = evidence_of_a["photo"]
    response = admin_client.get(reverse("admin:evidence_referencephoto_change", args=[photo.pk]))
    assert response.status_code == 200


@pytest.mark.django_db
def test_video_file_honours_byte_ranges_for_seeking(owner_client, evidence_of_a):
    url = reverse("evidence:video_file", args=[evidence_of_a["video"].pk])
    whole = b"".join(owner_client.get(url).streaming_content)
    response = owner_client.get(url, headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == whole[10:20]
    assert response["Content-Range"] == f"bytes 10-19/{len(whole)}"
    tail = owner_client.get(url, headers={"Range": "bytes=-5"})
    assert tail.content == whole[-5:]
    beyond = owner_client.get(url, headers={"Range": f"bytes={len(whole) + 10}-"})
    assert beyond.status_code == 416
