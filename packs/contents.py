"""What goes into a dispute's evidence pack: every fact and file, read once, scoped to the
person who asked for it (the pack never holds more than they may read, and never the
support staff's internal notes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from disputes import selectors
from disputes.buyer_history import buyer_counts
from disputes.models import ClaimImage, Dispute, Finding
from disputes.selectors import INTERNAL_ACTIONS
from disputes.templatetags.audit_trail import audit_detail, audit_label
from disputes.templatetags.findings import finding_text, transforms_text
from evidence.models import ReferencePhoto, StoredOriginal, VideoKeyframe
from forensics.findings import Audience, FindingCode
from forensics.signals import BuyerCounts
from packs.case import (
    CUSTOMER_COMMUNICATION,
    PRODUCT_DESCRIPTION,
    SHIPPING_DOCUMENTATION,
    UNCATEGORIZED_FILE,
    PackCase,
    PackFile,
    zip_safe,
)

#: Who reads a pack: a platform's arbitrator or the police, never "you" — whoever asks.
PACK_AUDIENCE = Audience.THIRD_PARTY


@dataclass(frozen=True)
class ClaimSection:
    """One claim photo with its verdict, the original it came from and the derived images."""

    image: ClaimImage
    claim: PackFile
    #: Each finding with its sentence in the report's language, strongest first.
    reasons: list[tuple[Finding, str]]
    transforms: str
    original: PackFile | None
    original_label: str
    aligned: PackFile | None
    heatmap: PackFile | None


@dataclass(frozen=True)
class Still:
    """One packing-video frame with its time in the video."""

    t_seconds: float
    file: PackFile


@dataclass(frozen=True)
class VideoSection:
    """A packing video of the order and the stills the pack shows of it."""

    video: PackFile
    duration_seconds: float
    stills: list[Still]


@dataclass(frozen=True)
class TimelineEntry:
    """One audit event as the pack tells it."""

    at: datetime
    actor: str
    action: str
    detail: str
    event_hash: str


@dataclass
class PackContents:
    """Everything the report and the archive are made of."""

    dispute: Dispute
    claims: list[ClaimSection]
    videos: list[VideoSection]
    provenance: list[tuple[str, str]]
    timeline: list[TimelineEntry]
    buyer: BuyerCounts
    #: The plain facts the archive's JSON files describe (no model instances).
    case: PackCase
    files: list[PackFile] = field(default_factory=list)


#: Findings that come from the file's metadata: the pack's provenance section lists them.
PROVENANCE_CODES = frozenset(
    {FindingCode.AI_PROVENANCE, FindingCode.EDITING_SOFTWARE, FindingCode.CREDENTIALS_INVALID}
)


def _user_label(user: Any) -> str:
    return user.get_username() if user is not None else "system"


def _spread(items: list[Any], count: int) -> list[Any]:
    """At most ``count`` items, evenly spread from first to last."""
    if count <= 0 or len(items) <= count:
        return list(items)
    if count == 1:
        return [items[0]]
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def pack_case(dispute: Dispute, claims: list[ClaimSection]) -> PackCase:
    """The dispute's plain facts for the archive, with each claim photo's top reason."""
    product = dispute.product
    return PackCase(
        platform=dispute.platform,
        external_id=dispute.external_id,
        order_ref=dispute.order_ref,
        buyer_ref=dispute.buyer_ref,
        claim_type=dispute.claim_type,
        reason=dispute.reason,
        amount=str(dispute.amount),
        currency=dispute.currency,
        status=dispute.status,
        opened_at=dispute.opened_at,
        respond_by=dispute.respond_by,
        risk_level=dispute.risk_level,
        risk_score=dispute.risk_score,
        merchant_statement=dispute.merchant_statement,
        product=f"{product.sku} — {product.title}" if product is not None else "",
        reasons=tuple(
            f"{section.image.original_name}: {section.reasons[0][1]}"
            for section in claims
            if section.reasons
        ),
    )


def pack_contents(*, user: Any, dispute: Dispute, stills_per_video: int) -> PackContents:
    """Read the dispute, its claim photos and findings, the matched originals, the order's
    packing videos and stills, and the audit timeline — as ``user`` may read them."""
    files: list[PackFile] = []
    originals = selectors.matched_originals(user=user, dispute=dispute)
    claims: list[ClaimSection] = []
    provenance: list[tuple[str, str]] = []
    images = (
        dispute.claim_images.select_related("uploaded_by")
        .prefetch_related("findings")
        .order_by("-risk_score", "id")
    )
    for n, image in enumerate(images, start=1):
        stem = f"{n:02d}-{zip_safe(image.original_name, fallback='claim')}"
        claim = _stored_file(
            image,
            path=f"originals/claim-photos/{stem}",
            category=CUSTOMER_COMMUNICATION,
            description=f"Buyer's claim photo {image.original_name}",
            priority=10 + n,
        )
        files.append(claim)
        findings = sorted(image.findings.all(), key=lambda f: -f.weight)
        named = next((f for f in findings if f.names_original), None)
        original: PackFile | None = None
        label = ""
        if named is not None:
            key = f"{named.evidence.get('original_kind')}:{named.evidence.get('original_id')}"
            source = originals.get(key)
            label = str(named.evidence.get("original_label") or "")
            original = _original_file(source, n) if source is not None else None
            if original is not None and all(f.path != original.path for f in files):
                files.append(original)
        aligned = _derived_file(
            image.aligned_original.name,
            f"derived/{n:02d}-aligned-original.jpg",
            f"Original warped into the frame of claim photo {n}",
            30 + n,
        )
        heatmap = _derived_file(
            image.heatmap.name,
            f"derived/{n:02d}-difference-heatmap.png",
            f"Difference heatmap of claim photo {n}",
            30 + n,
        )
        files.extend(f for f in (aligned, heatmap) if f is not None)
        for finding in findings:
            if finding.code in PROVENANCE_CODES:
                provenance.append((image.original_name, finding_text(finding, PACK_AUDIENCE)))
        claims.append(
            ClaimSection(
                image=image,
                claim=claim,
                reasons=[(f, finding_text(f, PACK_AUDIENCE)) for f in findings],
                transforms=transforms_text(named.evidence.get("transforms", []))
                if named is not None
                else "",
                original=original,
                original_label=label,
                aligned=aligned,
                heatmap=heatmap,
            )
        )
    videos = _videos(user=user, dispute=dispute, stills_per_video=stills_per_video)
    for section in videos:
        files.append(section.video)
        files.extend(still.file for still in section.stills)
    events = selectors.dispute_audit_trail(user=user, dispute=dispute).exclude(
        action__in=INTERNAL_ACTIONS
    )
    timeline = [
        TimelineEntry(
            at=e.created_at,
            actor=_user_label(e.actor),
            action=audit_label(e.action),
            detail=audit_detail(e),
            event_hash=e.hash,
        )
        for e in events
    ]
    return PackContents(
        dispute=dispute,
        claims=claims,
        videos=videos,
        provenance=provenance,
        timeline=timeline,
        buyer=buyer_counts(dispute),
        case=pack_case(dispute, claims),
        files=files,
    )


def _stored_file(
    stored: StoredOriginal, *, path: str, category: str, description: str, priority: int
) -> PackFile:
    """An uploaded original as the pack carries it, with its upload-time hash and facts."""
    return PackFile(
        path=path,
        storage_name=stored.file.name or "",
        sha256=stored.sha256,
        size=stored.size_bytes,
        category=category,
        description=description,
        uploaded_at=stored.uploaded_at,
        uploaded_by=_user_label(stored.uploaded_by),
        priority=priority,
    )


def _original_file(source: Any, n: int) -> PackFile | None:
    if isinstance(source, ReferencePhoto):
        return _stored_file(
            source,
            path=f"originals/reference-photos/{source.pk}-{zip_safe(source.original_name)}",
            category=PRODUCT_DESCRIPTION,
            description=f"Merchant's listing photo {source.original_name} ({source.product.sku})",
            priority=20 + n,
        )
    if isinstance(source, VideoKeyframe):
        return _still_file(source, priority=20 + n)
    return None


def _derived_file(name: str | None, path: str, description: str, priority: int) -> PackFile | None:
    if not name:
        return None
    return PackFile(
        path=path,
        storage_name=name,
        sha256="",
        size=0,
        category=UNCATEGORIZED_FILE,
        description=description,
        original=False,
        priority=priority,
    )


def _still_file(keyframe: Any, *, priority: int) -> PackFile:
    return PackFile(
        path=f"derived/stills/video-{keyframe.video_id}-{keyframe.t_seconds:08.2f}s.jpg",
        storage_name=keyframe.image.name or "",
        sha256="",
        size=0,
        category=SHIPPING_DOCUMENTATION,
        description=f"Packing-video still at {keyframe.t_seconds:.1f} s",
        original=False,
        priority=priority,
    )


def _videos(*, user: Any, dispute: Dispute, stills_per_video: int) -> list[VideoSection]:
    by_video: dict[int, list[Any]] = {}
    for keyframe in selectors.order_keyframes(user=user, dispute=dispute):
        by_video.setdefault(keyframe.video_id, []).append(keyframe)
    sections = []
    for video in selectors.order_videos(user=user, dispute=dispute).select_related("uploaded_by"):
        if video.pk not in by_video:
            continue  # not processed (yet): no stills to show
        sections.append(
            VideoSection(
                video=_stored_file(
                    video,
                    path=f"originals/packing-videos/{video.pk}-{zip_safe(video.original_name)}",
                    category=SHIPPING_DOCUMENTATION,
                    description=f"Packing video of order {video.order_ref}",
                    priority=60,
                ),
                duration_seconds=video.duration_seconds,
                stills=[
                    Still(k.t_seconds, _still_file(k, priority=40))
                    for k in _spread(by_video[video.pk], stills_per_video)
                ],
            )
        )
    return sections
