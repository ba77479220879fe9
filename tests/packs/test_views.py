"""Evidence packs through the web pages and the API (Celery eager)."""

from __future__ import annotations

import io
import zipfile

from django.urls import reverse
from rest_framework.test import APIClient

from api import services as api_services
from packs.models import EvidencePack
from tests.factories import MembershipFactory, ReviewerFactory


def test_the_merchant_exports_from_the_dispute_page_and_downloads_both_files(client, exportable):
    owner, dispute = exportable
    client.force_login(owner.user)
    page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Export evidence pack" in page and "No evidence pack yet." in page
    response = client.post(reverse("packs:request", args=[dispute.pk]))
    assert response.status_code == 302 and response["Location"].endswith("#packs")
    pack = EvidencePack.objects.get(dispute=dispute)
    page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert reverse("packs:download", args=[pack.pk, "zip"]) in page and pack.archive_sha256 in page
    panel = client.get(reverse("packs:status", args=[pack.pk])).content.decode()
    assert 'id="packs"' in panel and "data-refresh" not in panel  # finished: polling stops
    pdf = client.get(reverse("packs:download", args=[pack.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf" and pdf["X-Content-Type-Options"] == "nosniff"
    assert pdf["Content-Disposition"].startswith("attachment")
    archive = b"".join(
        client.get(reverse("packs:download", args=[pack.pk, "zip"])).streaming_content
    )
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert client.get(reverse("packs:download", args=[pack.pk, "exe"])).status_code == 404


def test_a_pack_being_built_is_polled_and_shows_its_step(client, exportable):
    owner, dispute = exportable
    pack = EvidencePack.objects.create(
        dispute=dispute, requested_by=owner.user, progress=40, status="building",
        step="Writing the PDF report",
    )  # fmt: skip
    client.force_login(owner.user)
    panel = client.get(reverse("packs:status", args=[pack.pk])).content.decode()
    assert "data-refresh" in panel and "Writing the PDF report" in panel
    assert 'id="pack-export" disabled' in panel
    assert client.get(reverse("packs:download", args=[pack.pk, "pdf"])).status_code == 404


def test_reviewers_read_packs_but_do_not_export_them(client, exportable):
    owner, dispute = exportable
    client.force_login(owner.user)
    client.post(reverse("packs:request", args=[dispute.pk]))
    pack = EvidencePack.objects.get()
    client.force_login(ReviewerFactory().user)
    assert client.get(reverse("packs:download", args=[pack.pk, "pdf"])).status_code == 200
    assert client.post(reverse("packs:request", args=[dispute.pk])).status_code == 403
    page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Export evidence pack" not in page
    client.force_login(MembershipFactory().user)  # another merchant
    assert client.get(reverse("packs:status", args=[pack.pk])).status_code == 404
    assert client.post(reverse("packs:request", args=[dispute.pk])).status_code == 404
    assert EvidencePack.objects.count() == 1


def test_the_api_exports_polls_and_downloads(exportable):
    owner, dispute = exportable
    issued = api_services.token_create(merchant=dispute.merchant, actor=owner.user, name="ERP")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    created = api.post(f"/api/v1/disputes/{dispute.pk}/evidence-packs/", HTTP_IDEMPOTENCY_KEY="k1")
    assert created.status_code == 202, created.content
    again = api.post(f"/api/v1/disputes/{dispute.pk}/evidence-packs/", HTTP_IDEMPOTENCY_KEY="k1")
    assert again.json()["id"] == created.json()["id"] and EvidencePack.objects.count() == 1
    detail = api.get(f"/api/v1/evidence-packs/{created.json()['id']}/").json()
    assert detail["status"] == "ready" and detail["zip_url"].endswith("/zip/")
    archive = api.get(detail["zip_url"])
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    listed = api.get("/api/v1/evidence-packs/").json()
    assert [p["id"] for p in listed["results"]] == [detail["id"]]

    other = MembershipFactory()
    secret = api_services.token_create(merchant=other.merchant, actor=other.user, name="x").secret
    outsider = APIClient()
    outsider.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert outsider.get(f"/api/v1/evidence-packs/{detail['id']}/zip/").status_code == 404
    assert outsider.get("/api/v1/evidence-packs/").json()["results"] == []


def test_the_api_dispute_detail_carries_the_buyers_history(exportable):
    from tests.disputes.factories import DisputeFactory
    from tests.factories import MerchantFactory

    owner, dispute = exportable
    DisputeFactory(merchant=MerchantFactory(), platform="taobao", buyer_ref=dispute.buyer_ref,
                   status="claim_rejected", opened_at=dispute.opened_at)  # fmt: skip
    issued = api_services.token_create(merchant=dispute.merchant, actor=owner.user, name="ERP")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    history = api.get(f"/api/v1/disputes/{dispute.pk}/").json()["buyer_history"]
    assert history == {"with_merchant": 0, "all_merchants": 1, "high_risk": 0, "rejected": 1}
