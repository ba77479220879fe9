"""API test fixtures: a merchant with a token, and a client that sends it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from api import services
from core.models import Merchant
from tests.factories import MembershipFactory


@dataclass
class TokenClient:
    merchant: Merchant
    user: object
    secret: str
    client: APIClient


def token_client(**membership: object) -> TokenClient:
    """A fresh merchant owner with an API token, and a client authenticated by it."""
    member = MembershipFactory(**membership)
    issued = services.token_create(merchant=member.merchant, actor=member.user, name="ERP")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    return TokenClient(member.merchant, member.user, issued.secret, client)


@pytest.fixture
def api(db) -> TokenClient:
    return token_client()


@pytest.fixture
def other_api(db) -> TokenClient:
    return token_client()
