"""Engine test fixtures: originals from scikit-image and the index built of them."""

from __future__ import annotations

import pytest
from PIL import Image
from skimage import data as skdata

from forensics.original_index import OriginalIndex
from tests.forensics.engine_images import indexed, label_product


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
