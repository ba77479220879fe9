"""Demo evidence the project makes itself: product photos from the sample photos inside
scikit-image and a packing video rendered with PyAV. Used by ``seed_demo``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np
from PIL import Image, ImageDraw
from skimage import data as samples


@dataclass(frozen=True)
class DemoProduct:
    """A product and the sample photos that stand for its listing photos."""

    sku: str
    title: str
    photos: tuple[str, ...]


DEMO_PRODUCTS = (
    DemoProduct("MUG-001", "Ceramic coffee cup, 250 ml", ("coffee",)),
    DemoProduct("CAT-TOY-7", "Plush cat cushion", ("chelsea", "cat")),
    DemoProduct("ROCKET-KIT", "Model rocket kit", ("rocket",)),
    DemoProduct("POSTER-A2", "Astronaut poster, A2", ("astronaut",)),
)


def sample_photo(name: str, *, variant: int = 0) -> Image.Image:
    """A colour sample photo from scikit-image; ``variant`` 1 is a tighter crop of it."""
    array = getattr(samples, name)()
    image = Image.fromarray(np.asarray(array)).convert("RGB")
    if variant:
        w, h = image.size
        image = image.crop((w // 10, h // 10, w - w // 10, h - h // 10)).resize((w, h))
    return image


def photo_jpeg(image: Image.Image, *, quality: int = 92) -> bytes:
    """JPEG bytes of a demo photo (deterministic for the same input)."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def demo_photos() -> Iterator[tuple[DemoProduct, str, bytes]]:
    """(product, file name, JPEG bytes) for every demo listing photo."""
    for product in DEMO_PRODUCTS:
        for index, name in enumerate(product.photos):
            image = sample_photo(name if name != "cat" else "chelsea", variant=int(name == "cat"))
            yield product, f"{product.sku.lower()}-{index + 1}.jpg", photo_jpeg(image)


def packing_video_mp4(
    *, seconds: int = 12, fps: int = 25, size: tuple[int, int] = (640, 480)
) -> bytes:
    """An H.264 MP4 of a parcel being packed: the product photo slides into a box."""
    width, height = size
    product = sample_photo("coffee").resize((320, 213))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"g": str(fps * 2), "preset": "veryfast", "crf": "26"}
        total = seconds * fps
        for index in range(total):
            progress = index / max(1, total - 1)
            frame = Image.new("RGB", size, (196, 164, 120))  # cardboard
            draw = ImageDraw.Draw(frame)
            draw.rectangle((120, 260, 520, 470), fill=(150, 110, 70), outline=(90, 60, 30), width=6)
            x = int(20 + progress * 140)
            y = int(20 + progress * 200)
            frame.paste(product, (x, y))
            if progress > 0.75:  # the flaps close over the product
                flap = int((progress - 0.75) / 0.25 * 210)
                draw.rectangle((120, 260, 520, 260 + flap), fill=(170, 128, 84))
            draw.text(
                (16, height - 28), f"ORDER DEMO-1001  t={index / fps:05.2f}s", fill=(20, 20, 20)
            )
            video_frame = av.VideoFrame.from_image(frame)
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
