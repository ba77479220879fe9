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


def doctored_photo(original: Image.Image) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """What a fraudster sends: the listing photo with a crack and a stain painted on,
    cropped and shrunk. Returns the claim and the painted box in claim pixels."""
    painted = original.copy()
    draw = ImageDraw.Draw(painted)
    draw.line([(220, 160), (270, 220), (255, 280)], fill=(25, 18, 10), width=7)
    draw.ellipse((300, 200, 350, 240), fill=(95, 62, 25))
    left, top, scale = 40, 30, 0.8
    cropped = painted.crop((left, top, painted.width - 20, painted.height - 10))
    claim = cropped.resize((round(cropped.width * scale), round(cropped.height * scale)))
    box = (
        round((216 - left) * scale),
        round((156 - top) * scale),
        round((354 - 216) * scale),
        round((284 - 156) * scale),
    )
    return claim, box


def buyer_snapshot(*, seed: int = 7, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """A photo of the buyer's own (a different cup on a table, with sensor noise): what an
    honest claim looks like — nothing in it comes from the merchant's photos."""
    rng = np.random.default_rng(seed)
    width, height = size
    rows = np.linspace(0, 1, height)[:, None, None]
    table = (np.array([150, 120, 95]) * (0.7 + 0.3 * rows)).repeat(width, axis=1)
    image = Image.fromarray(table.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((120, 210, 380, 300), fill=(235, 235, 228), outline=(160, 160, 150), width=3)
    draw.rectangle((180, 120, 320, 255), fill=(240, 240, 236), outline=(170, 170, 160), width=3)
    draw.ellipse((180, 100, 320, 140), fill=(90, 55, 30), outline=(170, 170, 160), width=3)
    draw.arc((300, 150, 360, 220), start=270, end=90, fill=(200, 200, 195), width=10)
    noisy = np.asarray(image).astype(np.int16) + rng.normal(0, 6, (height, width, 3)).astype(
        np.int16
    )
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def demo_claim_photos() -> list[tuple[str, bytes]]:
    """A demo dispute's photos: the doctored listing photo, and the buyer's own photo."""
    claim, _box = doctored_photo(sample_photo("coffee"))
    return [
        ("IMG_2041.jpg", photo_jpeg(claim, quality=85)),
        ("IMG_2042.jpg", photo_jpeg(buyer_snapshot(), quality=85)),
    ]
