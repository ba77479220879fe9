"""The evidence pack's PDF report: a Django template rendered by WeasyPrint.

Images reach WeasyPrint through a private URL scheme (``pack-image:<key>``), downscaled
in memory, so the PDF stays small and no storage path or network fetch is involved.
Chinese text renders with the Noto CJK fonts (Debian ``fonts-noto-cjk``), which WeasyPrint
finds through fontconfig and embeds as subsets.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFile, ImageOps

from core.timezones import zone
from packs.case import PackFile
from packs.contents import ClaimSection, PackContents, VideoSection
from packs.limits import LeftOut

SCHEME = "pack-image:"
#: Longest side of an image in the report: sharp on A4 at ~150 dpi, small in bytes.
REPORT_IMAGE_SIDE = 1000
STILL_SIDE = 480


def _weasyprint() -> Any:
    """Import WeasyPrint without its side effect: it sets Pillow's process-wide
    ``LOAD_TRUNCATED_IMAGES`` on import, which would let a worker that built a pack
    accept truncated uploads afterwards. The report only embeds images it encoded itself."""
    strict = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint
    import weasyprint.urls

    ImageFile.LOAD_TRUNCATED_IMAGES = strict
    return weasyprint


@dataclass(frozen=True)
class RenderedReport:
    """The PDF bytes, its page count and the sections the page cap left out."""

    pdf: bytes
    pages: int
    left_out: list[LeftOut]


class _Images:
    """Downscaled JPEGs for the report, by key (``fetcher`` serves them to WeasyPrint)."""

    def __init__(self, read: Callable[[str], bytes]) -> None:
        self.read = read
        self.cache: dict[str, bytes] = {}

    def add(self, key: str, make: Callable[[], Image.Image], side: int) -> str:
        if key not in self.cache:
            image = make()
            image.thumbnail((side, side))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
            self.cache[key] = out.getvalue()
        return SCHEME + key

    def open(self, file: PackFile | None) -> Image.Image:
        if file is None:
            raise ValueError("no file")
        image = Image.open(io.BytesIO(self.read(file.storage_name)))
        return ImageOps.exif_transpose(image) or image

    def fetcher(self) -> Any:
        """A WeasyPrint URL fetcher that serves these images and nothing else (no file,
        no network: a finding's text can never pull a resource into the report)."""
        urls = _weasyprint().urls
        response = urls.URLFetcherResponse
        cache = self.cache

        class ReportImages(urls.URLFetcher):  # type: ignore[name-defined]
            def fetch(self, url: str, headers: Any = None) -> Any:
                key = url[len(SCHEME) :] if url.startswith(SCHEME) else None
                if key not in cache:
                    raise ValueError(f"the report may only show its own images, not {url!r}")
                return response(url, body=cache[key], headers={"Content-Type": "image/jpeg"})

        return ReportImages(fail_on_errors=False)


def _with_region(claim: Image.Image, region: list[int] | None) -> Image.Image:
    """The claim with the changed region outlined (in claim pixels)."""
    out = claim.convert("RGB")
    if region:
        x, y, w, h = region
        width = max(3, round(max(out.size) / 250))
        ImageDraw.Draw(out).rectangle((x, y, x + w, y + h), outline=(220, 30, 30), width=width)
    return out


def _with_heatmap(claim: Image.Image, heatmap: Image.Image) -> Image.Image:
    """The claim under its difference heatmap (the heatmap's alpha, or 60 %)."""
    base = claim.convert("RGBA")
    overlay = heatmap.convert("RGBA").resize(base.size)
    if heatmap.mode != "RGBA":
        overlay.putalpha(150)
    return Image.alpha_composite(base, overlay)


def _claim_images(images: _Images, section: ClaimSection) -> dict[str, str]:
    n = section.claim.path
    urls = {
        "claim": images.add(
            f"{n}:claim",
            lambda: _with_region(images.open(section.claim), section.image.region),
            REPORT_IMAGE_SIDE,
        )
    }
    if section.aligned is not None:
        urls["original"] = images.add(
            f"{n}:aligned",
            lambda: _with_region(images.open(section.aligned), section.image.region),
            REPORT_IMAGE_SIDE,
        )
    if section.heatmap is not None:
        urls["heatmap"] = images.add(
            f"{n}:heatmap",
            lambda: _with_heatmap(images.open(section.claim), images.open(section.heatmap)),
            REPORT_IMAGE_SIDE,
        )
    return urls


def _video_images(images: _Images, video: VideoSection) -> list[tuple[float, str]]:
    found = []
    for still in video.stills:
        load = functools.partial(images.open, still.file)
        found.append((still.t_seconds, images.add(still.file.path, load, STILL_SIDE)))
    return found


def report_pdf(
    contents: PackContents,
    *,
    read: Callable[[str], bytes],
    archive_files: list[PackFile],
    left_out: list[LeftOut],
    max_pages: int,
    generated_at: datetime,
    generated_by: str,
    audit_head: dict[str, Any] | None = None,
) -> RenderedReport:
    """Render the report; past ``max_pages`` drop the least risky claim pages, then the
    video stills, then cut the timeline, and say so in the report itself. ``audit_head``
    (the newest event of the merchant's audit chain when the pack was built) is printed
    under the timeline."""
    HTML = _weasyprint().HTML
    images = _Images(read)
    claims = list(contents.claims)
    videos = list(contents.videos)
    timeline = list(contents.timeline)
    dropped: list[LeftOut] = []
    while True:
        context = {
            "c": contents,
            "claims": [(s, _claim_images(images, s)) for s in claims],
            "videos": [(v, _video_images(images, v)) for v in videos],
            "timeline": timeline,
            "archive_files": archive_files,
            "left_out": [*left_out, *dropped],
            "generated_at": generated_at,
            "generated_by": generated_by,
            "audit_head": audit_head,
        }
        # Every time in the report reads in the merchant's zone, which the report names.
        with timezone.override(zone(contents.dispute.merchant.time_zone)):
            html = render_to_string("packs/report.html", context)
        document = HTML(string=html, url_fetcher=images.fetcher(), base_url=SCHEME).render()
        pages = len(document.pages)
        if pages <= max_pages:
            return RenderedReport(document.write_pdf(), pages, dropped)
        if len(claims) > 1:
            gone = claims.pop()
            dropped.append(
                LeftOut(f"report page of {gone.image.original_name}", "over the page cap")
            )
        elif videos:
            dropped.append(LeftOut("packing-video stills pages", "over the page cap"))
            videos = []
        elif len(timeline) > 10:
            dropped.append(
                LeftOut(f"{len(timeline) - 10} earliest timeline events", "over the page cap")
            )
            timeline = timeline[-10:]
        else:
            cut = document.copy(document.pages[:max_pages])
            dropped.append(LeftOut(f"report pages after {max_pages}", "over the page cap"))
            return RenderedReport(cut.write_pdf(), max_pages, dropped)
