"""Schemathesis against the generated OpenAPI schema, in-process: whatever it sends,
no 500, and every answer matches the schema (status code, content type, body)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.api.conftest import token_client


@schemathesis.serializer("application/offset+octet-stream")
def _raw_bytes(ctx: object, value: object) -> bytes:
    """Chunk bodies of the resumable upload are raw bytes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode()


schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    """The raw WSGI app closes the database connection after each request, as in
    production; inside a test transaction it must stay open (as the test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(db) -> str:
    """One merchant token per operation under test (a user per example would be slow)."""
    return token_client().secret


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.ignored_auth,
]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_within_its_schema(case, fuzz_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS)
