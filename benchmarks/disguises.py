"""How buyers and fraudsters disguise a merchant's photo: the held-out benchmark's families.

Each *operation* takes a :class:`Picture` — the image and a mask carried through every
geometric step (``DAMAGE_MARK`` where the damage painter really changed a pixel,
``FRAME_MARK`` on the rest of the listing's frame, 0 on whatever the operation added) —
and returns the disguised picture. An operation that ends by writing the claim file (a
chat app's JPEG, a screenshot's PNG) leaves the file's bytes in ``Picture.encoded``.

Each *damage* takes the listing photo (an RGB array), where the product is, and a seeded
generator and returns the doctored photo; the true region is then the bounding box of
the pixels it really changed, carried through the operations.

Parameters are deliberately heavy (issue 21): rotation 2–12° then crops of up to a fifth
per edge, 2–3 successive crops keeping 35–90 %, the photo at 20–60 % of a phone screen's
width, re-photographs at 15–35°, chat recompression chains, img2img-like regeneration,
and crops given a border (the border then covers what the crop removed).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from benchmarks.detection import EDITS, SINGLE_EDITS, _blob, paint_damage

DAMAGE_MARK, FRAME_MARK = 255, 64  # the same marks as benchmarks/detection.py


@dataclass(frozen=True)
class Picture:
    """A claim being built: the image, its damage/frame mask, and its file once written."""

    image: Image.Image  # RGB
    mask: Image.Image  # L: DAMAGE_MARK / FRAME_MARK / 0
    encoded: bytes | None = None  # the claim file's bytes when the last step wrote them
    fmt: str = "jpg"  # "jpg" | "png": the written file's format


@dataclass(frozen=True)
class Sources:
    """Real photos an operation may borrow: other products' photos of the same group."""

    other_photos: Sequence[Path]


Operation = Callable[[Picture, np.random.Generator, Sources], Picture]
Damage = Callable[[np.ndarray, np.ndarray, np.random.Generator, Sources], np.ndarray]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _jpeg_bytes(img: Image.Image, quality: int, subsampling: int = 2) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=quality, subsampling=subsampling)
    return buffer.getvalue()


def _decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


# --- Geometric operations ---------------------------------------------------------------


def _crop(pic: Picture, box: tuple[int, int, int, int]) -> Picture:
    return Picture(pic.image.crop(box), pic.mask.crop(box))


def _crop_share(pic: Picture, share: float, rng: np.random.Generator) -> Picture:
    """Crop keeping ``share`` of the area, at a random aspect and position."""
    w, h = pic.image.size
    fw = math.exp(_u(rng, math.log(share), 0.0))  # fw ≥ share, so fh = share / fw ≤ 1
    fh = min(1.0, share / fw)
    cw, ch = max(8, round(w * fw)), max(8, round(h * fh))
    x0 = int(rng.integers(0, w - cw + 1))
    y0 = int(rng.integers(0, h - ch + 1))
    return _crop(pic, (x0, y0, x0 + cw, y0 + ch))


def rotate_crop(pic: Picture, rng: np.random.Generator, sources: Sources) -> Picture:
    """Rotate 2–12° keeping the white or black corners the rotation adds, then crop each
    edge by up to a fifth (independently)."""
    angle = _u(rng, 2, 12) * float(rng.choice([-1, 1]))
    fill = (255, 255, 255) if rng.random() < 0.6 else (0, 0, 0)
    img = pic.image.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
    m = pic.mask.rotate(angle, Image.Resampling.NEAREST, expand=True, fillcolor=0)
    w, h = img.size
    left, top, right, bottom = (_u(rng, 0, 0.2) for _ in range(4))
    box = (round(left * w), round(top * h), w - round(right * w), h - round(bottom * h))
    return _crop(Picture(img, m), box)


def multi_crop(pic: Picture, rng: np.random.Generator, sources: Sources) -> Picture:
    """Two or three successive crops keeping 35–90 % of the area in total."""
    total = _u(rng, 0.35, 0.9)
    steps = int(rng.integers(2, 4))
    shares = total ** rng.dirichlet(np.ones(steps))  # their product is ``total``
    for share in shares:
        pic = _crop_share(pic, float(share), rng)
    return pic


# --- Chat screenshot and collage ------------------------------------------------------

#: (background, incoming bubble, outgoing bubble, text, bar) of a few chat apps' themes.
CHAT_THEMES: tuple[tuple[tuple[int, int, int], ...], ...] = (
    ((236, 229, 221), (255, 255, 255), (220, 248, 198), (20, 20, 20), (0, 128, 105)),
    ((11, 20, 26), (32, 44, 51), (0, 92, 75), (233, 237, 239), (31, 44, 52)),
    ((255, 255, 255), (233, 233, 235), (0, 122, 255), (10, 10, 10), (247, 247, 247)),
    ((174, 195, 140), (255, 255, 255), (239, 253, 222), (20, 20, 20), (81, 127, 164)),
    ((0, 0, 0), (38, 38, 41), (10, 132, 255), (240, 240, 240), (22, 22, 24)),
)
_WORDS = (
    "hi", "the", "box", "arrived", "damaged", "see", "photo", "here", "is", "what", "I",
    "got", "can", "you", "refund", "please", "it", "was", "like", "this", "when", "opened",
    "parcel", "yesterday", "thanks", "order", "number", "sorry", "look", "at", "corner",
    "broken", "leaking", "ok", "let", "me", "check", "send", "another", "one",
)  # fmt: skip


def _rounded_rect(
    canvas: np.ndarray, x0: int, y0: int, x1: int, y1: int, r: int, colour: tuple[int, ...]
) -> None:
    r = max(1, min(r, (x1 - x0) // 2, (y1 - y0) // 2))
    cv2.rectangle(canvas, (x0 + r, y0), (x1 - r, y1), colour, -1)
    cv2.rectangle(canvas, (x0, y0 + r), (x1, y1 - r), colour, -1)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        cv2.circle(canvas, (cx, cy), r, colour, -1, cv2.LINE_AA)


def _text_bubble(
    canvas: np.ndarray,
    y: int,
    rng: np.random.Generator,
    colours: tuple[tuple[int, int, int], ...],
    scale: float,
) -> int:
    """Draw one text bubble at height ``y``; return its bottom."""
    sw = canvas.shape[1]
    _, incoming, outgoing, text, _ = colours
    mine = bool(rng.integers(2))
    lines = [
        " ".join(rng.choice(_WORDS, int(rng.integers(2, 7)))) for _ in range(rng.integers(1, 4))
    ]
    font = cv2.FONT_HERSHEY_SIMPLEX
    thick = max(1, round(scale * 1.6))
    sizes = [cv2.getTextSize(s, font, scale, thick)[0] for s in lines]
    line_h = int(max(s[1] for s in sizes) * 1.9)
    pad = int(line_h * 0.5)
    bw = min(int(sw * 0.78), max(s[0] for s in sizes) + 2 * pad)
    bh = line_h * len(lines) + pad
    x0 = int(sw * 0.04) if not mine else sw - int(sw * 0.04) - bw
    colour = outgoing if mine else incoming
    _rounded_rect(canvas, x0, y, x0 + bw, y + bh, int(line_h * 0.6), colour)
    fg = (255, 255, 255) if mine and sum(colour) < 400 else text
    for k, s in enumerate(lines):
        base = y + pad // 2 + line_h * (k + 1) - line_h // 4
        cv2.putText(canvas, s, (x0 + pad, base), font, scale, fg, thick, cv2.LINE_AA)
    return y + bh


def chat_screenshot(pic: Picture, rng: np.random.Generator, sources: Sources) -> Picture:
    """The picture inside a phone chat screenshot: status bar, header, coloured bubbles
    with text, the photo as one bubble at 20–60 % of the screen width; PNG or JPEG q85."""
    sw, sh = ((1080, 2340), (1170, 2532))[int(rng.integers(2))]
    colours = CHAT_THEMES[int(rng.integers(len(CHAT_THEMES)))]
    bg, incoming, outgoing, _, bar = colours
    canvas = np.empty((sh, sw, 3), np.uint8)
    canvas[:] = bg
    mcanvas = np.zeros((sh, sw), np.uint8)
    scale = sw / 1080 * _u(rng, 1.2, 1.6)
    # Status bar: time, signal bars, battery.
    status_h, header_h, input_h = int(sh * 0.05), int(sh * 0.06), int(sh * 0.07)
    canvas[:status_h] = bar
    light_bar = sum(bar) > 500
    ink = (0, 0, 0) if light_bar else (255, 255, 255)
    clock = f"{int(rng.integers(7, 23))}:{int(rng.integers(0, 60)):02d}"
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(canvas, clock, (int(sw * 0.07), int(status_h * 0.7)), font, scale, ink, 3)
    bx = sw - int(sw * 0.13)
    cv2.rectangle(canvas, (bx, status_h // 3), (bx + 60, status_h * 2 // 3), ink, 2)
    cv2.rectangle(
        canvas,
        (bx + 4, status_h // 3 + 4),
        (bx + 4 + int(rng.integers(10, 52)), status_h * 2 // 3 - 4),
        ink,
        -1,
    )
    for k in range(4):
        x = sw - int(sw * 0.25) + k * 14
        cv2.rectangle(
            canvas, (x, status_h * 2 // 3 - 6 - 5 * k), (x + 9, status_h * 2 // 3), ink, -1
        )
    # Header: back arrow, avatar, contact name.
    canvas[status_h : status_h + header_h] = bar
    cy = status_h + header_h // 2
    cv2.circle(canvas, (int(sw * 0.15), cy), header_h // 3, (150, 160, 170), -1, cv2.LINE_AA)
    name = " ".join(rng.choice(["Shop", "Support", "Anna", "Mike", "Seller", "Store"], 2))
    cv2.putText(canvas, name, (int(sw * 0.22), cy + 12), font, scale, ink, 3, cv2.LINE_AA)
    cv2.line(canvas, (30, cy), (55, cy - 20), ink, 4)
    cv2.line(canvas, (30, cy), (55, cy + 20), ink, 4)
    # Input bar.
    top_input = sh - input_h
    canvas[top_input:] = bar
    _rounded_rect(
        canvas, int(sw * 0.1), top_input + input_h // 5, int(sw * 0.82), sh - input_h // 5,
        input_h // 3, (255, 255, 255) if not light_bar else (230, 230, 232),
    )  # fmt: skip
    # The photo bubble.
    share = _u(rng, 0.2, 0.6)
    pw = max(16, round(sw * share))
    ph = max(16, round(pic.image.height * pw / pic.image.width))
    room = top_input - status_h - header_h - 40
    if ph > room:  # a very tall picture is shown smaller, as the apps do
        ph = room
        pw = max(16, round(pic.image.width * ph / pic.image.height))
    inner = np.asarray(pic.image.resize((pw, ph), Image.Resampling.BICUBIC))
    minner = np.asarray(pic.mask.resize((pw, ph), Image.Resampling.NEAREST))
    pad = int(rng.integers(6, 14))
    mine = bool(rng.integers(2))
    x0 = int(sw * 0.04) + pad if not mine else sw - int(sw * 0.04) - pad - pw
    y_lo = status_h + header_h + 20 + pad
    y_hi = top_input - 20 - pad - ph
    y0 = int(rng.integers(y_lo, max(y_lo, y_hi) + 1))
    # Text bubbles above and below the photo.
    y = status_h + header_h + 24
    while True:
        probe = canvas.copy()
        bottom = _text_bubble(probe, y, rng, colours, scale * 0.8)
        if bottom > y0 - pad - 20:
            break
        canvas = probe
        y = bottom + int(rng.integers(12, 30))
    y = y0 + ph + pad + 24
    while True:
        probe = canvas.copy()
        bottom = _text_bubble(probe, y, rng, colours, scale * 0.8)
        if bottom > top_input - 16:
            break
        canvas = probe
        y = bottom + int(rng.integers(12, 30))
    _rounded_rect(
        canvas, x0 - pad, y0 - pad, x0 + pw + pad, y0 + ph + pad, 3 * pad,
        outgoing if mine else incoming,
    )  # fmt: skip
    canvas[y0 : y0 + ph, x0 : x0 + pw] = inner
    mcanvas[y0 : y0 + ph, x0 : x0 + pw] = minner
    stamp = f"{int(rng.integers(7, 23))}:{int(rng.integers(0, 60)):02d}"
    cv2.putText(
        canvas, stamp, (x0 + pw - 70, y0 + ph - 12), font, 0.6 * scale, (255, 255, 255), 2,
        cv2.LINE_AA,
    )  # fmt: skip
    img = Image.fromarray(canvas)
    m = Image.fromarray(mcanvas)
    if rng.random() < 0.5:
        buffer = io.BytesIO()
        img.save(buffer, "PNG", compress_level=3)
        return Picture(img, m, buffer.getvalue(), "png")
    data = _jpeg_bytes(img, 85)
    return Picture(_decode(data), m, data, "jpg")


def _cover(img: Image.Image, size: tuple[int, int], nearest: bool = False) -> Image.Image:
    """Fill ``size`` the way collage apps do: scale to cover, crop the centre."""
    w, h = size
    f = max(w / img.width, h / img.height)
    sw, sh = max(w, round(img.width * f)), max(h, round(img.height * f))
    method = Image.Resampling.NEAREST if nearest else Image.Resampling.BICUBIC
    big = img.resize((sw, sh), method)
    x0, y0 = (sw - w) // 2, (sh - h) // 2
    return big.crop((x0, y0, x0 + w, y0 + h))


def collage(pic: Picture, rng: np.random.Generator, sources: Sources) -> Picture:
    """A 2×2, 3×1 or 1×3 collage with thin gutters; the doctored listing is one tile, the
    others are photos of other products."""
    cols, rows = ((2, 2), (3, 1), (1, 3))[int(rng.integers(3))]
    cell_w = int(rng.integers(280, 640))
    cell_h = max(64, round(cell_w * _u(rng, 0.75, 1.33)))
    gutter = int(rng.integers(2, 11))
    fill = (255, 255, 255) if rng.random() < 0.6 else (0, 0, 0)
    width = cols * cell_w + (cols + 1) * gutter
    height = rows * cell_h + (rows + 1) * gutter
    canvas = Image.new("RGB", (width, height), fill)
    mcanvas = Image.new("L", (width, height), 0)
    ours = int(rng.integers(cols * rows))
    picks = rng.choice(len(sources.other_photos), cols * rows - 1, replace=False)
    others = iter(sources.other_photos[int(k)] for k in picks)
    for k in range(cols * rows):
        x = gutter + (k % cols) * (cell_w + gutter)
        y = gutter + (k // cols) * (cell_h + gutter)
        if k == ours:
            canvas.paste(_cover(pic.image, (cell_w, cell_h)), (x, y))
            mcanvas.paste(_cover(pic.mask, (cell_w, cell_h), nearest=True), (x, y))
        else:
            tile = Image.open(next(others)).convert("RGB")
            canvas.paste(_cover(tile, (cell_w, cell_h)), (x, y))
    return Picture(canvas, mcanvas)


# --- Re-photograph, recompression, regeneration ------------------------------------------


def steep_rephoto(pic: Picture, rng: np.random.Generator, sources: Sources) -> Picture:
    """Photograph the picture on a screen at 15–35° yaw or pitch: perspective, bezel,
    moiré (a fine sinusoidal grid), a glare blob, blur, noise, JPEG."""
    scale = _u(rng, 600, 900) / max(pic.image.size)
    w, h = round(pic.image.width * scale), round(pic.image.height * scale)
    src: np.ndarray = np.asarray(pic.image.resize((w, h), Image.Resampling.BICUBIC)).astype(
        np.float32
    )
    msrc = np.asarray(pic.mask.resize((w, h), Image.Resampling.NEAREST))
    bezel = round(_u(rng, 0.03, 0.07) * max(w, h))
    bezel_colour = [float(v) for v in rng.uniform(8, 35, 3)]
    src = cv2.copyMakeBorder(
        src, bezel, bezel, bezel, bezel, cv2.BORDER_CONSTANT, value=bezel_colour
    )
    msrc = cv2.copyMakeBorder(msrc, bezel, bezel, bezel, bezel, cv2.BORDER_CONSTANT, value=0)
    h2, w2 = src.shape[:2]
    # A pinhole camera looking at the screen turned by (yaw, pitch).
    main, other = _u(rng, 15, 35), _u(rng, 0, 12)
    yaw, pitch = (main, other) if rng.random() < 0.5 else (other, main)
    yaw *= float(rng.choice([-1, 1]))
    pitch *= float(rng.choice([-1, 1]))
    ry, rx = math.radians(yaw), math.radians(pitch)
    rot_y = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    rot_x = np.array([[1, 0, 0], [0, math.cos(rx), -math.sin(rx)], [0, math.sin(rx), math.cos(rx)]])
    f = _u(rng, 1.0, 1.6) * max(w2, h2)
    corners = np.array(
        [[-w2 / 2, -h2 / 2, 0], [w2 / 2, -h2 / 2, 0], [w2 / 2, h2 / 2, 0], [-w2 / 2, h2 / 2, 0]]
    )
    cam = corners @ (rot_y @ rot_x).T + np.array([0, 0, f * _u(rng, 1.05, 1.3)])
    proj = f * cam[:, :2] / cam[:, 2:3]
    margin = _u(rng, 0.04, 0.15) * max(w2, h2)
    proj -= proj.min(axis=0) - margin
    out_w, out_h = (math.ceil(float(v) + margin) for v in proj.max(axis=0))
    quad_src = np.array([[0, 0], [w2, 0], [w2, h2], [0, h2]], np.float32)
    pm = cv2.getPerspectiveTransform(quad_src, proj.astype(np.float32))
    room = np.float32(rng.uniform(60, 200, 3))
    out = cv2.warpPerspective(
        src, pm, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=room.tolist()
    )
    mout = cv2.warpPerspective(msrc, pm, (out_w, out_h), flags=cv2.INTER_NEAREST)
    screen = cv2.warpPerspective(np.ones((h2, w2), np.float32), pm, (out_w, out_h)) > 0.5
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    # Moiré: the screen's pixel grid beating against the camera's.
    a = _u(rng, 0, math.pi)
    p1, p2 = _u(rng, 3.0, 8.0), _u(rng, 3.0, 8.0)
    u = xx * math.cos(a) + yy * math.sin(a)
    v = -xx * math.sin(a) + yy * math.cos(a)
    grid = np.sin(2 * math.pi * u / p1) * np.sin(2 * math.pi * v / p2)
    moire = _u(rng, 0.03, 0.08)
    # Glare: a bright blob somewhere on the screen.
    gx, gy = _u(rng, 0.15, 0.85) * out_w, _u(rng, 0.15, 0.85) * out_h
    gs = _u(rng, 0.08, 0.25) * max(out_w, out_h)
    glare = np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * gs * gs)))
    out = out * _u(rng, 0.85, 1.05) + glare[..., None] * _u(rng, 40, 110)
    out = cv2.GaussianBlur(out, (0, 0), _u(rng, 0.8, 2.0))
    # Moiré after the blur: the camera samples the screen's pixel grid, the lens blur
    # does not remove the beat it leaves.
    out = np.where(screen[..., None], out * (1 + moire * grid[..., None]), out)
    out = out + rng.normal(0, _u(rng, 2, 6), out.shape).astype(np.float32)
    img = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    data = _jpeg_bytes(img, int(rng.integers(70, 91)))
    return Picture(_decode(data), Image.fromarray(mout), data, "jpg")


def chat_recompress(pic: Picture, rng: np.random.Generator, sources: Sources) -> Picture:
    """What chat apps do, 2–3 times: resize to a 1080 or 1280 px long side (a small picture
    is scaled by 0.6–1.0 once instead), JPEG quality 70–80 with 4:2:0 chroma."""
    img, m = pic.image, pic.mask
    data = b""
    for step in range(int(rng.integers(2, 4))):
        long_side = max(img.size)
        if long_side > 1080:
            target = int(rng.choice([1080, 1280]))
            f = min(1.0, target / long_side)
        else:
            f = _u(rng, 0.6, 1.0) if step == 0 else 1.0
        if f < 1.0:
            size = (max(16, round(img.width * f)), max(16, round(img.height * f)))
            img = img.resize(size, Image.Resampling.BILINEAR)
            m = m.resize(size, Image.Resampling.NEAREST)
        data = _jpeg_bytes(img, int(rng.integers(70, 81)), subsampling=2)
        img = _decode(data)
    return Picture(img, m, data, "jpg")


def regenerate(pic: Picture, rng: np.random.Generator, sources: Sources) -> Picture:
    """A low-strength img2img imitation: edge-preserving denoise, a smooth random
    displacement field of 1–3 px, fresh Gaussian noise, an unsharp mask."""
    a = np.ascontiguousarray(np.asarray(pic.image))
    if rng.random() < 0.5:
        a = cv2.bilateralFilter(a, int(rng.integers(5, 10)), _u(rng, 25, 60), _u(rng, 3, 8))
    else:
        a = cv2.edgePreservingFilter(
            a, flags=1, sigma_s=_u(rng, 15, 50), sigma_r=_u(rng, 0.15, 0.35)
        )
    h, w = a.shape[:2]
    amplitude = _u(rng, 1.0, 3.0)
    cells = int(rng.integers(3, 8))
    field = []
    for _ in range(2):
        coarse = rng.normal(0, 1, (cells, cells)).astype(np.float32)
        smooth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        field.append(smooth / max(1e-6, float(np.abs(smooth).max())) * amplitude)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xx + field[0], yy + field[1]
    a = cv2.remap(a, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    m = cv2.remap(
        np.asarray(pic.mask), map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT
    )
    f = a.astype(np.float32) + rng.normal(0, _u(rng, 2, 5), a.shape).astype(np.float32)
    blur = cv2.GaussianBlur(f, (0, 0), _u(rng, 1.0, 2.0))
    f = f + _u(rng, 0.4, 1.2) * (f - blur)
    return Picture(Image.fromarray(np.clip(f, 0, 255).astype(np.uint8)), Image.fromarray(m))


def classic(name: str) -> Operation:
    """One of benchmarks/detection.py's single edits as an operation."""

    def run(pic: Picture, rng: np.random.Generator, sources: Sources) -> Picture:
        img, m = EDITS[name](pic.image, pic.mask, rng)
        return Picture(img, m)

    run.__name__ = name
    return run


# --- Damage ------------------------------------------------------------------------------


def _size(mask: np.ndarray) -> float:
    return math.sqrt(max(int(mask.sum()), 64))


def _spot(mask: np.ndarray, rng: np.random.Generator, half: int) -> tuple[int, int]:
    """A product pixel at least ``half`` px inside the frame (the centre when none is)."""
    h, w = mask.shape
    inner = np.zeros_like(mask)
    if h > 2 * half + 2 and w > 2 * half + 2:
        inner[half + 1 : h - half - 1, half + 1 : w - half - 1] = True
    ys, xs = np.nonzero(mask & inner)
    if not len(xs):
        return w // 2, h // 2
    k = int(rng.integers(len(xs)))
    return int(xs[k]), int(ys[k])


def paint(
    listing: np.ndarray, mask: np.ndarray, rng: np.random.Generator, sources: Sources
) -> np.ndarray:
    """benchmarks/detection.py's damage painter (cracks, stains, dents, holes, …)."""
    return paint_damage(listing, mask, rng)[0]


def _textured_window(donor: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """The busiest of a few random ``side``-square windows of a donor photo: a smooth
    window (a white shelf, a wall) would blend into the listing without a trace."""
    if min(donor.shape[:2]) <= side:
        donor = cv2.resize(donor, (side * 2, side * 2), interpolation=cv2.INTER_CUBIC)
    best, best_energy = donor[:side, :side], -1.0
    for _ in range(8):
        y = int(rng.integers(0, donor.shape[0] - side))
        x = int(rng.integers(0, donor.shape[1] - side))
        window = donor[y : y + side, x : x + side]
        energy = float(np.abs(np.diff(window.astype(np.float32), axis=0)).mean())
        if energy > best_energy:
            best, best_energy = window, energy
    return np.ascontiguousarray(best)


def poisson_damage(
    listing: np.ndarray, mask: np.ndarray, rng: np.random.Generator, sources: Sources
) -> np.ndarray:
    """A patch of a real photo of another product blended in with ``cv2.seamlessClone``.

    Tried up to four times (another donor, another spot) until the blend really changed
    at least a fifth of the patch; a blend that vanishes is not damage anyone would send.
    """
    h, w = mask.shape
    r = max(5, round(_size(mask) * _u(rng, 0.08, 0.18)))
    r = min(r, (min(h, w) - 6) // 2)
    side = 2 * r + 4
    out = listing
    for _ in range(4):
        donor = _load(sources.other_photos[int(rng.integers(len(sources.other_photos)))])
        patch = _textured_window(donor, side, rng)
        pmask = np.zeros((side, side), np.uint8)
        cv2.fillPoly(pmask, [_blob(rng, side / 2, side / 2, r * 0.95, n=16).astype(np.int32)], 255)
        cx, cy = _spot(mask, rng, side // 2 + 2)
        flag = cv2.NORMAL_CLONE if rng.random() < 0.7 else cv2.MIXED_CLONE
        out = cv2.seamlessClone(patch, np.ascontiguousarray(listing), pmask, (cx, cy), flag)
        changed = np.abs(out.astype(int) - listing.astype(int)).max(axis=2) >= 16
        if changed.sum() >= 0.2 * (pmask > 0).sum():
            break
    return out


def copy_move(
    listing: np.ndarray, mask: np.ndarray, rng: np.random.Generator, sources: Sources
) -> np.ndarray:
    """A patch of the listing copied elsewhere on the product, slightly scaled and turned."""
    h, w = mask.shape
    r = max(4, round(_size(mask) * _u(rng, 0.08, 0.16)))
    r = min(r, (min(h, w) - 8) // 4)
    side = 2 * r + 1
    sx, sy = _spot(mask, rng, r + 1)
    patch: np.ndarray = listing[sy - r : sy + r + 1, sx - r : sx + r + 1].astype(np.float32)
    turn = cv2.getRotationMatrix2D((r, r), _u(rng, -15, 15), _u(rng, 0.85, 1.15))
    patch = cv2.warpAffine(patch, turn, (side, side), borderMode=cv2.BORDER_REFLECT)
    alpha: np.ndarray = np.zeros((side, side), np.float32)
    cv2.fillPoly(alpha, [_blob(rng, r, r, r * 0.9, n=16).astype(np.int32)], 1.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.8, r / 10))[..., None]
    best = (sx, sy)
    for _ in range(40):  # somewhere else on the product, clear of the source
        tx, ty = _spot(mask, rng, r + 1)
        if math.hypot(tx - sx, ty - sy) >= 2.5 * r:
            best = (tx, ty)
            break
        if math.hypot(tx - sx, ty - sy) > math.hypot(best[0] - sx, best[1] - sy):
            best = (tx, ty)
    tx, ty = best
    out = listing.astype(np.float32).copy()
    region = out[ty - r : ty + r + 1, tx - r : tx + r + 1]
    out[ty - r : ty + r + 1, tx - r : tx + r + 1] = region * (1 - alpha) + patch * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def inpaint_removal(
    listing: np.ndarray, mask: np.ndarray, rng: np.random.Generator, sources: Sources
) -> np.ndarray:
    """A logo or text patch (the busiest edges on the product) removed with ``cv2.inpaint``."""
    h, w = mask.shape
    rw = max(6, round(_size(mask) * _u(rng, 0.15, 0.3)))
    rh = max(5, round(rw * _u(rng, 0.3, 0.8)))  # text lines and logos are wider than tall
    rw, rh = min(rw, w - 4), min(rh, h - 4)
    grey = cv2.cvtColor(listing, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, 60, 160).astype(np.float32) / 255
    density = cv2.boxFilter(edges, -1, (rw, rh), normalize=True)
    density[~mask] = 0
    density[: rh // 2 + 1] = 0
    density[h - rh // 2 - 1 :] = 0
    density[:, : rw // 2 + 1] = 0
    density[:, w - rw // 2 - 1 :] = 0
    candidates = np.argsort(density.ravel())[-5:]  # one of the five busiest windows
    cy, cx = np.unravel_index(int(rng.choice(candidates)), density.shape)
    hole = np.zeros((h, w), np.uint8)
    cv2.rectangle(
        hole,
        (int(cx) - rw // 2, int(cy) - rh // 2),
        (int(cx) + rw // 2, int(cy) + rh // 2),
        255,
        -1,
    )
    radius = _u(rng, 3, 7)
    method = cv2.INPAINT_TELEA if rng.random() < 0.5 else cv2.INPAINT_NS
    return cv2.inpaint(np.ascontiguousarray(listing), hole, radius, method)


# --- Families ------------------------------------------------------------------------------

#: detection.py's single edits, each one a classic disguise ("none" is no disguise).
CLASSIC_EDITS = tuple(edit for edit in SINGLE_EDITS if edit != "none")
OPERATIONS: dict[str, Operation] = {
    "rotate_crop": rotate_crop,
    "multi_crop": multi_crop,
    "chat_screenshot": chat_screenshot,
    "collage": collage,
    "steep_rephoto": steep_rephoto,
    "chat_recompress": chat_recompress,
    "regenerate": regenerate,
    **{f"classic:{name}": classic(name) for name in CLASSIC_EDITS},
}
#: Operations that frame the whole picture: only the last step of a chain.
LAST_ONLY = frozenset({"chat_screenshot", "collage", "classic:screenshot"})
DAMAGES: dict[str, Damage] = {
    "paint": paint,
    "poisson_damage": poisson_damage,
    "copy_move": copy_move,
    "inpaint_removal": inpaint_removal,
}
FAMILIES = (
    "rotate_crop",
    "multi_crop",
    "chat_screenshot",
    "collage",
    "steep_rephoto",
    "chat_recompress",
    "regenerate",
    "poisson_damage",
    "copy_move",
    "inpaint_removal",
    "classic",
    "random_chain",
    "crop_border",
)
#: The crops a ``crop_border`` claim is cut with before its border is added.
BORDERED_CROPS = ("multi_crop", "rotate_crop", "classic:crop")


def family_plan(family: str, rng: np.random.Generator, k: int) -> tuple[str, list[str]]:
    """The damage and the operations one claim of ``family`` gets (``k``: its number)."""
    if family in DAMAGES:
        return family, []
    if family == "classic":  # each claim one single edit, cycling through them
        return "paint", [f"classic:{CLASSIC_EDITS[(k + int(rng.integers(9))) % 9]}"]
    if family == "random_chain":
        n = int(rng.integers(1, 5))
        damage = str(
            rng.choice(
                ["paint", "paint", "paint", "poisson_damage", "copy_move", "inpaint_removal"]
            )
        )
        steps = n - (damage != "paint")
        composable = [name for name in OPERATIONS if name not in LAST_ONLY]
        ops = [str(rng.choice(composable)) for _ in range(max(0, steps - 1))]
        if steps > 0:
            ops.append(str(rng.choice(list(OPERATIONS))))
        return damage, ops
    if family == "crop_border":  # cut, then framed: the border covers what the cut removed
        return "paint", [str(rng.choice(BORDERED_CROPS)), "classic:border"]
    return "paint", [family]


def apply(pic: Picture, ops: Sequence[str], rng: np.random.Generator, sources: Sources) -> Picture:
    """Run the operations in order; a step after one that wrote the file drops its bytes."""
    for name in ops:
        pic = OPERATIONS[name](replace(pic, encoded=None), rng, sources)
    return pic
