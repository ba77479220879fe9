"""Dispute test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from disputes.evidence_index import forget


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    """Each test builds the merchant index from its own database rows."""
    forget()
    yield
    forget()
