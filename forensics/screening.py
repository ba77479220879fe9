"""Screening claim photos against originals given as files: the index built from files
and the JSON of ``manage.py screen_claim``. Pure: no Django, no database; the analysis
itself is ``forensics.pipeline.analyse_claim``, as in the workers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from forensics.errors import MediaRejected
from forensics.fingerprints import (
    fingerprint_image,
    fit_for_analysis,
    load_analysis_image,
    photo_size,
)
from forensics.keyframes import extract_keyframes
from forensics.original_index import IndexedOriginal, OriginalIndex, indexed_original
from forensics.pipeline import Analysis, ClaimContext, analyse_claim

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif"}
MAX_PIXELS = 60_000_000
KEYFRAMES_PER_MINUTE = 20
KEYFRAME_MIN_SPACING = 2.0
#: A video's frames are keyed "<video path>#t=<seconds>s" (a media-fragment URI).
VIDEO_FRAME_MARK = "#t="


def file_original(
    key: str,
    image: Image.Image,
    load: Callable[[], Image.Image],
    full_size: tuple[int, int] | None = None,
    *,
    kind: Literal["photo", "keyframe"] = "photo",
) -> IndexedOriginal:
    """Fingerprint a decoded original for the index (the same values the workers store);
    ``full_size`` is its size before it was reduced for analysis."""
    values = {f.algorithm: f.value for f in fingerprint_image(image)}
    return indexed_original(key, values, load_image=load, full_size=full_size, kind=kind)


def _same(image: Image.Image) -> Image.Image:
    return image


def _file_loader(path: Path) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        with path.open("rb") as fh:
            return load_analysis_image(fh, max_pixels=MAX_PIXELS)

    return load


def original_files(folders: Iterable[Path]) -> list[Path]:
    """Image files under the given folders, in a stable order."""
    found: list[Path] = []
    for folder in folders:
        if folder.is_file():
            found.append(folder)
            continue
        found.extend(
            sorted(
                p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        )
    return found


@dataclass
class FileIndex:
    """An index built from files, and the originals that could not be read."""

    index: OriginalIndex
    skipped: list[tuple[str, str]]


def build_file_index(
    photos: Iterable[Path],
    videos: Iterable[Path] = (),
    *,
    on_item: Callable[[str], None] | None = None,
) -> FileIndex:
    """Index original photos and the keyframes of packing videos."""
    originals: list[IndexedOriginal] = []
    skipped: list[tuple[str, str]] = []
    for path in photos:
        try:
            with path.open("rb") as fh:
                image = load_analysis_image(fh, max_pixels=MAX_PIXELS)
                size = photo_size(fh, max_pixels=MAX_PIXELS)
        except (MediaRejected, OSError) as exc:
            skipped.append((str(path), str(exc)))
        else:
            originals.append(file_original(str(path), image, _file_loader(path), size))
        if on_item:
            on_item(str(path))
    for video in videos:
        try:
            originals.extend(_video_originals(video))
        except (MediaRejected, OSError) as exc:
            skipped.append((str(video), str(exc)))
        if on_item:
            on_item(str(video))
    return FileIndex(OriginalIndex(originals), skipped)


def _video_originals(video: Path) -> Iterator[IndexedOriginal]:
    with video.open("rb") as fh:
        for keyframe in extract_keyframes(
            fh, per_minute=KEYFRAMES_PER_MINUTE, min_spacing_seconds=KEYFRAME_MIN_SPACING
        ):
            still = fit_for_analysis(keyframe.image)
            yield file_original(
                f"{video}{VIDEO_FRAME_MARK}{keyframe.t_seconds:.1f}s",
                still,
                functools.partial(_same, still),
                keyframe.image.size,
                kind="keyframe",
            )


def screening_json(claim: str, analysis: Analysis) -> dict[str, Any]:
    """The screening CLI's JSON object for one claim (see DESIGN.md, the contract)."""
    match = analysis.match
    result = analysis.verdict
    best = None
    if match is not None:
        distance: float = (
            match.hash_distance
            if match.hash_distance is not None
            else round(1.0 - match.same_photo_score, 4)
        )
        best = {
            "original": match.original_key,
            "distance": distance,
            "method": match.method,
            "same_photo_score": round(match.same_photo_score, 4),
            "transforms": match.transforms,
        }
    region = list(analysis.region) if analysis.region else None
    return {
        "claim": claim,
        "score": round(result.score, 4),
        "flagged": result.flagged,
        "level": result.level,
        "reasons": [
            {"code": s.code, "message": s.message, "weight": s.weight, **s.evidence}
            for s in result.reasons
        ],
        "best_match": best,
        "region": region,
    }


def screen_file(
    path: Path, index: OriginalIndex, *, context: ClaimContext | None = None
) -> dict[str, Any]:
    """Screen one claim file; unreadable files give ``{"claim": path, "error": …}``.
    ``context``: what the caller knows beyond the file (e.g. C2PA trust anchors)."""
    try:
        data = path.read_bytes()
        return screening_json(str(path), analyse_claim(data, index, context=context))
    except MediaRejected as exc:
        return {"claim": str(path), "error": str(exc)}
    except OSError as exc:
        return {"claim": str(path), "error": f"cannot read the file: {exc.strerror or exc}"}
