"""Dispute test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image
from skimage import data as skdata

from disputes.evidence_index import forget
from disputes.original_index import OriginalIndex
from tests.disputes.engine_images import indexed, label_product


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    """Each test builds the merchant index from its own database rows."""
    forget()
    yield
    forget()


@pytest.fixture(scope="module")
def originals() -> dict[str, Image.Image]:
    return {
        "astronaut": Image.fromarray(skdata.astronaut()),
        "chelsea": Image.fromarray(skdata.chelsea()),
        "rocket": Image.fromarray(skdata.rocket()),
        "product": label_product(),
    }


@pytest.fixture(scope="module")
def index(originals: dict[str, Image.Image]) -> OriginalIndex:
    return OriginalIndex(indexed(key, image) for key, image in originals.items())
