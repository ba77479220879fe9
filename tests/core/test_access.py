"""The one scoped way to fetch a row by id: ``access_<thing>_by_id(actor, id)`` answers
the same 404 for a row that does not exist and for another merchant's row, and the
API's ``merchant=`` narrows it to the token's merchant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.http import Http404

from api import services as api_services
from api.selectors import access_token_by_id, access_webhook_by_id
from disputes.selectors import access_claim_image_by_id, access_dispute_by_id
from evidence.models import PackingVideo, VideoKeyframe
from evidence.selectors import (
    access_keyframe_by_id,
    access_photo_by_id,
    access_product_by_id,
    access_video_by_id,
)
from packs.models import EvidencePack
from packs.selectors import access_pack_by_id
from tests.disputes.factories import scored_dispute
from tests.disputes.fixtures import reference_photo, sample
from tests.factories import MembershipFactory, ProductFactory, ReviewerFactory

#: (thing, its access function, which of the merchant's rows it fetches)
ACCESS: list[tuple[str, Callable[..., Any]]] = [
    ("product", access_product_by_id),
    ("photo", access_photo_by_id),
    ("video", access_video_by_id),
    ("keyframe", access_keyframe_by_id),
    ("dispute", access_dispute_by_id),
    ("claim_image", access_claim_image_by_id),
    ("pack", access_pack_by_id),
]


def merchant_rows(owner: Any) -> dict[str, Any]:
    merchant = owner.merchant
    product = ProductFactory(merchant=merchant)
    video = PackingVideo.objects.create(
        merchant=merchant, file="originals/x.mp4", original_name="x.mp4", sha256="b" * 64,
        size_bytes=10, content_type="video/mp4", order_ref="O-1", container="mp4",
        codec="h264", width=2, height=2, duration_seconds=1, status=PackingVideo.Status.READY,
    )  # fmt: skip
    dispute = scored_dispute("high", merchant=merchant)
    return {
        "product": product,
        "photo": reference_photo(product, sample("coffee")),
        "video": video,
        "keyframe": VideoKeyframe.objects.create(
            video=video, t_seconds=0, image="k.jpg", width=2, height=2, source_sha256="b" * 64
        ),
        "dispute": dispute,
        "claim_image": dispute.top_claim_image,
        "pack": EvidencePack.objects.create(dispute=dispute, requested_by=owner.user),
    }


@pytest.fixture
def two_merchants(db) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    owner = MembershipFactory()
    return owner, merchant_rows(owner), merchant_rows(MembershipFactory())


def _refused(fetch: Callable[[], Any]) -> str:
    with pytest.raises(Http404) as refused:
        fetch()
    return str(refused.value)


@pytest.mark.parametrize(("thing", "access"), ACCESS)
def test_missing_and_not_yours_are_the_same_404(two_merchants, thing, access):
    owner, mine, theirs = two_merchants
    assert access(owner.user, mine[thing].pk) == mine[thing]
    not_yours = _refused(lambda: access(owner.user, theirs[thing].pk))
    missing = _refused(lambda: access(owner.user, 10**12))
    no_id = _refused(lambda: access(owner.user, None))
    assert not_yours == missing == no_id


@pytest.mark.parametrize(
    ("thing", "access"), [(t, a) for t, a in ACCESS if t not in ("keyframe", "claim_image")]
)
def test_the_api_reads_only_its_tokens_merchant(two_merchants, thing, access):
    owner, mine, theirs = two_merchants
    # The same person acts for the other merchant too, through another token.
    MembershipFactory(user=owner.user, merchant=theirs["product"].merchant)
    assert access(owner.user, theirs[thing].pk) == theirs[thing]
    assert access(owner.user, mine[thing].pk, merchant=owner.merchant) == mine[thing]
    _refused(lambda: access(owner.user, theirs[thing].pk, merchant=owner.merchant))


@pytest.mark.django_db
def test_reviewers_reach_evidence_and_disputes_in_their_scope_only(two_merchants):
    owner, mine, theirs = two_merchants
    reviewer = ReviewerFactory(merchants=[owner.merchant]).user
    for thing, access in ACCESS:
        if thing == "product":  # the product pages are the merchant's own
            _refused(lambda: access(reviewer, mine["product"].pk))  # noqa: B023
            continue
        assert access(reviewer, mine[thing].pk) == mine[thing], thing
        _refused(lambda: access(reviewer, theirs[thing].pk))  # noqa: B023


@pytest.mark.django_db
def test_integration_settings_rows_are_the_owners(two_merchants):
    owner, _mine, _theirs = two_merchants
    token = api_services.token_create(merchant=owner.merchant, actor=owner.user, name="t").token
    endpoint = api_services.webhook_endpoint_create(
        merchant=owner.merchant, actor=owner.user, url="https://example.com/h"
    )
    assert access_token_by_id(owner.user, token.pk, merchant=owner.merchant) == token
    assert access_webhook_by_id(owner.user, endpoint.pk, merchant=owner.merchant) == endpoint
    agent = MembershipFactory(merchant=owner.merchant, role="agent").user
    _refused(lambda: access_token_by_id(agent, token.pk, merchant=owner.merchant))
    _refused(lambda: access_webhook_by_id(agent, endpoint.pk, merchant=owner.merchant))
