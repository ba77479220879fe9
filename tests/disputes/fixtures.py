"""Claim photos the dispute tests make: a doctored copy of a merchant photo, and
honest photos of something else."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, PngImagePlugin
from skimage import data as samples

from disputes import services
from evidence import services as evidence_services
from evidence.demo import doctored_photo as doctored  # noqa: F401 - re-exported for tests


def sample(name: str) -> Image.Image:
    return Image.fromarray(np.asarray(getattr(samples, name)())).convert("RGB")


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png_with_aigc_label(image: Image.Image) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "AIGC",
        '{"Label": "1", "ContentProducer": "001191110108MA01", "ProduceID": "20261125-abc"}',
    )
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def reference_photo(product, image: Image.Image, name: str = "listing.jpg"):  # type: ignore[no-untyped-def]
    photo = evidence_services.photo_ingest(
        product=product,
        upload=ContentFile(jpeg_bytes(image), name=name),
        filename=name,
        uploader=None,
    ).obj
    return evidence_services.photo_fingerprint(photo_id=photo.pk)


def open_dispute(merchant, photos: list[tuple[bytes, str]], *, external_id: str = "D-1", **extra):  # type: ignore[no-untyped-def]
    fields = {
        "platform": "taobao",
        "order_ref": "ORDER-1",
        "buyer_ref": "buyer-9",
        "product": None,
        "claim_type": "refund_only",
        "reason": "Arrived cracked",
        "amount": "129.00",
        "currency": "CNY",
        "respond_by": timezone.now() + timedelta(days=2),
        **extra,
    }
    return services.dispute_open(
        merchant=merchant,
        actor=None,
        external_id=external_id,
        photos=[(ContentFile(data, name=name), name) for data, name in photos],
        **fields,
    )


def product_shot(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """A distinct synthetic product photo per ``seed`` (shapes over a textured ground),
    for tests that need many photos no sample photo resembles."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    ground = rng.integers(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    image = Image.fromarray(ground).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, size[0] - 40)), int(rng.integers(0, size[1] - 40))
        x1, y1 = x0 + int(rng.integers(30, 160)), y0 + int(rng.integers(30, 120))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour, outline=(0, 0, 0), width=3)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour, outline=(255, 255, 255), width=3)
    return image
