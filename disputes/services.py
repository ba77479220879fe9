"""Every write about disputes: opening them with the buyer's photos, analysing each
photo, deciding. Keyword-only arguments, one transaction each, every change audited."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import acts_for, can_review, is_member
from core.audit import audit_record
from core.models import Merchant
from core.tasks import enqueue_on_commit
from disputes import events
from disputes.buyer_history import buyer_counts, dispute_buyer_key, repeat_claimant_rule
from disputes.evidence_index import merchant_index
from disputes.models import RISK_RANK, ClaimImage, Decision, Dispute, Finding, InternalNote
from disputes.reanalysis import NewEvidence, claims_it_could_change
from disputes.reuse import reuse_facts
from evidence import storage
from evidence.models import Product
from evidence.uploads import FileDigest, clean_filename, digest, validate_photo
from forensics import signals
from forensics.errors import MediaRejected
from forensics.findings import FindingCode
from forensics.fingerprints import (
    PhotoInfo,
    thumbnail_jpeg,
)
from forensics.pipeline import ClaimContext, analyse_claim
from forensics.provenance import read_trust_anchors
from forensics.scoring import Signal, Verdict

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedUpload:
    """A claim photo that passed validation and is ready to store."""

    upload: File[Any]
    name: str
    digest: FileDigest
    info: PhotoInfo


def claim_photos_check(files: list[tuple[File[Any], str]]) -> list[CheckedUpload]:
    """Validate every claim photo before anything is stored.

    Raises one ``ValidationError`` naming each bad file, so a dispute is never left
    half-created.
    """
    checked: list[CheckedUpload] = []
    errors: list[str] = []
    seen: set[str] = set()
    for upload, filename in files:
        try:
            name = clean_filename(filename)
            file_digest = digest(upload)
            info = validate_photo(upload, size=file_digest.size)
        except ValidationError as exc:
            errors.append(f"{filename}: {' '.join(exc.messages)}")
            continue
        if file_digest.sha256 in seen:
            continue  # the same photo picked twice
        seen.add(file_digest.sha256)
        checked.append(CheckedUpload(upload, name, file_digest, info))
    if errors:
        raise ValidationError(errors, code="claim_photos")
    return checked


def _store_claim_images(
    *, dispute: Dispute, checked: list[CheckedUpload], uploader: Any | None
) -> tuple[list[ClaimImage], list[str]]:
    """Store files and rows; the caller's transaction makes them all-or-nothing."""
    from disputes.tasks import claim_image_analyze_task

    images: list[ClaimImage] = []
    stored_names: list[str] = []
    known = set(dispute.claim_images.values_list("sha256", flat=True))
    for item in checked:
        if item.digest.sha256 in known:
            continue
        name = storage.original_name(
            merchant_id=dispute.merchant_id, kind="claims", extension=item.info.extension
        )
        stored_names.append(storage.save_original(item.upload, name=name))
        image = ClaimImage.objects.create(
            merchant_id=dispute.merchant_id,
            dispute=dispute,
            file=stored_names[-1],
            original_name=item.name,
            sha256=item.digest.sha256,
            size_bytes=item.digest.size,
            content_type=item.info.mime,
            width=item.info.width,
            height=item.info.height,
            uploaded_by=uploader,
        )
        images.append(image)
        image_id = image.pk
        enqueue_on_commit(claim_image_analyze_task, image_id)
    return images, stored_names


def _uploads_recorded(images: list[ClaimImage]) -> list[dict[str, Any]]:
    """The claim photos as their upload's audit event records them (``verify_custody``
    holds each stored row's SHA-256 to the one recorded here, by id)."""
    return [{"id": i.pk, "name": i.original_name, "sha256": i.sha256} for i in images]


#: How far a client's clock may run ahead of ours when it sends when a dispute opened.
OPENED_AT_CLOCK_SKEW = timedelta(minutes=10)
#: How far from today a dispute's dates may lie.
PLAUSIBLE_DATE_SPAN = timedelta(days=3653)


def dispute_open(
    *,
    merchant: Merchant,
    actor: Any | None,
    platform: str,
    external_id: str,
    order_ref: str,
    buyer_ref: str,
    product: Product | None,
    claim_type: str,
    reason: str,
    amount: Decimal,
    currency: str,
    respond_by: datetime,
    opened_at: datetime | None = None,
    photos: list[tuple[File[Any], str]],
) -> Dispute:
    """Open a dispute with the buyer's photos; analysis starts once it is committed.
    The merchant's own people open its disputes (support reviewers only decide them)."""
    if not acts_for(actor, merchant):
        raise PermissionDenied(_("Only the merchant's own people open its disputes."))
    if product is not None and product.merchant_id != merchant.pk:
        raise ValidationError({"product": _("That product belongs to another merchant.")})
    # A deadline already past is allowed (a dispute entered late is overdue); a dispute
    # opened in the future, or after its own deadline, is a typo.
    if opened_at is not None and opened_at > timezone.now() + OPENED_AT_CLOCK_SKEW:
        raise ValidationError(
            {"opened_at": _("The dispute cannot have been opened in the future.")}
        )
    # A date decades away is a typo (and years before 1900 render with a local mean time
    # offset no ISO 8601 reader accepts).
    if abs(respond_by - timezone.now()) > PLAUSIBLE_DATE_SPAN:
        raise ValidationError(
            {"respond_by": _("The respond-by deadline must be within ten years of today.")}
        )
    if opened_at is not None and timezone.now() - opened_at > PLAUSIBLE_DATE_SPAN:
        raise ValidationError(
            {"opened_at": _("The dispute must have been opened within the last ten years.")}
        )
    if opened_at is not None and respond_by < opened_at:
        raise ValidationError(
            {"respond_by": _("The respond-by deadline is before the dispute was opened.")}
        )
    if Dispute.objects.filter(
        merchant=merchant, platform=platform, external_id=external_id.strip()
    ).exists():
        raise ValidationError({"external_id": _("A dispute with this platform id already exists.")})
    checked = claim_photos_check(photos)
    stored_names: list[str] = []
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                merchant=merchant,
                platform=platform,
                external_id=external_id.strip(),
                order_ref=order_ref.strip(),
                buyer_ref=buyer_ref.strip(),
                buyer_key=dispute_buyer_key(platform=platform, buyer_ref=buyer_ref),
                product=product,
                claim_type=claim_type,
                reason=reason,
                amount=amount,
                currency=currency.upper(),
                opened_at=opened_at or timezone.now(),
                respond_by=respond_by,
                status=Dispute.Status.ANALYSING if checked else Dispute.Status.OPEN,
                created_by=actor,
            )
            images, stored_names = _store_claim_images(
                dispute=dispute, checked=checked, uploader=actor
            )
            audit_record(
                merchant=merchant,
                dispute=dispute,
                actor=actor,
                action="dispute.opened",
                data={
                    "external_id": dispute.external_id,
                    "claim_images": _uploads_recorded(images),
                },
            )
    except BaseException:
        for name in stored_names:
            storage.delete_quietly(name)
        raise
    return dispute


def claim_images_add(
    *, dispute: Dispute, actor: Any | None, photos: list[tuple[File[Any], str]]
) -> list[ClaimImage]:
    """Attach more buyer photos to a dispute and analyse them (the merchant's own people
    only: a reviewer who needs more photos asks for them in a decision)."""
    if not acts_for(actor, dispute.merchant_id):
        raise PermissionDenied(_("Only the merchant's own people add the buyer's photos."))
    checked = claim_photos_check(photos)
    stored_names: list[str] = []
    try:
        with transaction.atomic():
            locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
            if locked.status in Dispute.FINAL:
                raise ValidationError(_("This dispute has been decided; no more photos."))
            images, stored_names = _store_claim_images(
                dispute=locked, checked=checked, uploader=actor
            )
            # New photos answer a "more evidence" request too: back through analysis.
            if images and locked.status not in Dispute.FINAL:
                locked.status = Dispute.Status.ANALYSING
                locked.version += 1
                locked.save(update_fields=["status", "version", "updated_at"])
            audit_record(
                merchant=locked.merchant,
                dispute=locked,
                actor=actor,
                action="claim_images.added",
                data={"claim_images": _uploads_recorded(images)},
            )
    except BaseException:
        for name in stored_names:
            storage.delete_quietly(name)
        raise
    return images


def c2pa_trust_anchors() -> str | None:
    """The PEM bundle of ``REFUNDGUARD_C2PA_TRUST_ANCHORS`` (read once), or None: then no
    content-credential signer is on a trust list."""
    path = settings.C2PA_TRUST_ANCHORS
    return read_trust_anchors(path) if path else None


def claim_image_analyze(*, claim_image_id: int) -> ClaimImage:
    """Compare one claim photo with the merchant's evidence, read its provenance, check
    for reuse, and record findings and a verdict. Idempotent: re-running replaces the
    findings with the same facts."""
    with transaction.atomic():
        image = ClaimImage.objects.select_for_update().get(pk=claim_image_id)
        if image.analysis_status == ClaimImage.Status.ANALYSED:
            # A redelivered task (worker killed after commit, before the ack) or a
            # sweep that raced the worker: the work is done; doing it twice would only
            # add audit noise. Re-analysis is asked for by setting the row back to pending.
            return image
        image.analysis_status = ClaimImage.Status.PROCESSING
        image.save(update_fields=["analysis_status"])
    try:
        with default_storage.open(image.file.name or "", "rb") as fh:
            data = fh.read()
        found = merchant_index(image.merchant_id)
        dispute = image.dispute

        def platform_signals(phash: bytes) -> list[Signal]:
            raised = [
                signals.reuse_signal(reuse_facts(claim_image=image, phash=phash)),
                signals.repeat_claimant_signal(buyer_counts(dispute), repeat_claimant_rule()),
            ]
            return [signal for signal in raised if signal is not None]

        analysis = analyse_claim(
            data,
            found.index,
            context=ClaimContext(
                max_pixels=settings.PHOTO_MAX_PIXELS,
                platform_signals=platform_signals,
                c2pa_trust_anchors=c2pa_trust_anchors(),
            ),
        )
    except MediaRejected as exc:
        return claim_image_mark_failed(claim_image_id=claim_image_id, reason=str(exc))
    match, result = analysis.match, analysis.verdict
    ref = found.ref(match.original_key) if match is not None else None
    heatmap_name = ""
    if analysis.heatmap is not None:
        heatmap_name = storage.save_derived(
            _png(analysis.heatmap),
            name=storage.derived_name(source_sha256=image.sha256, label="heatmap.png"),
        )
    aligned_name = ""
    # The original in the claim's frame, for side-by-side review: for an edited copy and
    # for a near copy (where that comparison is the reviewer's whole job).
    if analysis.aligned_original is not None:
        aligned_name = storage.save_derived(
            _jpeg(analysis.aligned_original),
            name=storage.derived_name(source_sha256=image.sha256, label="aligned.jpg"),
        )
    thumb_name = storage.save_derived(
        thumbnail_jpeg(analysis.claim),
        name=storage.derived_name(source_sha256=image.sha256, label="thumb.jpg"),
    )
    with transaction.atomic():
        image = ClaimImage.objects.select_for_update().get(pk=claim_image_id)
        before = _result_facts(image)
        image.findings.all().delete()
        Finding.objects.bulk_create(
            [
                Finding(
                    claim_image=image,
                    code=s.code,
                    weight=s.weight,
                    message=s.message,
                    evidence=_with_original(s.evidence, ref),
                )
                for s in result.reasons
            ]
        )
        image.set_phash(analysis.phash)
        image.risk_score = result.score
        image.risk_level = result.level
        image.region = list(analysis.region) if analysis.region else None
        image.heatmap = heatmap_name
        image.aligned_original = aligned_name
        image.thumbnail = thumb_name
        image.analysis_status = ClaimImage.Status.ANALYSED
        image.failure_reason = ""
        image.processed_at = timezone.now()
        image.save()
        _dispute_refresh(
            image.dispute_id,
            actor=None,
            analysed=image,
            result=result,
            recorded=_result_facts(image) != before,
        )
    return image


def _result_facts(image: ClaimImage) -> tuple[Any, ...] | None:
    """What the audit trail says of a photo's analysis: score, level, the findings' codes,
    the matched original and the changed region (None before a successful analysis). A
    re-analysis (new evidence, a retry, a sweep) is recorded only when these changed:
    otherwise the trail would repeat "Photo analysed" for every upload of the merchant's."""
    if image.risk_score is None or image.failure_reason:
        return None
    findings = list(image.findings.values_list("code", "evidence"))
    originals = {
        f"{evidence['original_kind']}:{evidence.get('original_id')}"
        for _code, evidence in findings
        if isinstance(evidence, dict) and evidence.get("original_kind")
    }
    return (
        round(image.risk_score, 4),
        image.risk_level,
        sorted(code for code, _evidence in findings),
        sorted(originals),
        list(image.region) if image.region else None,
    )


def _with_original(evidence: dict[str, Any], ref: Any) -> dict[str, Any]:
    if ref is None or "original" not in evidence:
        return evidence
    return {
        **evidence,
        "original_kind": ref.kind,
        "original_id": ref.object_id,
        "original_label": ref.label,
    }


def _jpeg(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def claim_image_mark_failed(*, claim_image_id: int, reason: str) -> ClaimImage:
    """Record that a claim photo could not be analysed, and why."""
    with transaction.atomic():
        image = ClaimImage.objects.select_for_update().get(pk=claim_image_id)
        image.analysis_status = ClaimImage.Status.FAILED
        image.failure_reason = reason
        image.processed_at = timezone.now()
        image.save(update_fields=["analysis_status", "failure_reason", "processed_at"])
        _dispute_refresh(image.dispute_id, actor=None, analysed=image, result=None)
    return image


def _dispute_refresh(
    dispute_id: int,
    *,
    actor: Any | None,
    analysed: ClaimImage,
    result: Verdict | None,
    recorded: bool = True,
) -> None:
    """Roll claim-image verdicts up to the dispute (risk, the riskiest photo and its top
    reason for the queue); move it to review when every photo is done. ``recorded``:
    write the photo's audit event (False for a re-analysis that changed nothing)."""
    dispute = Dispute.objects.select_for_update().get(pk=dispute_id)
    images = list(dispute.claim_images.all())
    scored = [i for i in images if i.risk_score is not None]
    top = max(
        scored, key=lambda i: (RISK_RANK[i.risk_level], i.risk_score or 0.0, -i.pk), default=None
    )
    before = (dispute.status, dispute.risk_level)
    dispute.risk_score = top.risk_score if top else None
    dispute.risk_level = top.risk_level if top else ""
    dispute.risk_rank = RISK_RANK[dispute.risk_level]
    dispute.top_claim_image = top
    dispute.top_finding = top.findings.order_by("-weight", "id").first() if top else None
    pending = [
        i
        for i in images
        if i.analysis_status in (ClaimImage.Status.PENDING, ClaimImage.Status.PROCESSING)
    ]
    if not pending and dispute.status in (Dispute.Status.OPEN, Dispute.Status.ANALYSING):
        dispute.status = Dispute.Status.NEEDS_REVIEW
    if not pending:
        events.send_on_commit(events.analysis_completed, dispute.pk)
    if (dispute.status, dispute.risk_level) != before:
        dispute.version += 1
    dispute.save(
        update_fields=[
            "risk_score",
            "risk_level",
            "risk_rank",
            "top_claim_image",
            "top_finding",
            "status",
            "version",
            "updated_at",
        ]
    )
    if not recorded:
        return
    audit_record(
        merchant=dispute.merchant,
        dispute=dispute,
        actor=actor,
        action="claim_image.analysed" if result is not None else "claim_image.failed",
        data={
            "claim_image": analysed.pk,
            "sha256": analysed.sha256,
            "score": result.score if result else None,
            "level": result.level if result else None,
            "reason": analysed.failure_reason,
            "dispute_status": dispute.status,
        },
    )


class DecisionConflict(ValidationError):
    """Someone changed the dispute after the reviewer loaded it; nothing was written."""


def dispute_decide(
    *,
    dispute: Dispute,
    actor: Any,
    outcome: str,
    note: str,
    requested_from: str = "",
    expected_version: int | None = None,
) -> Decision:
    """Record a reviewer's decision. A rejection needs a reason; a request for more
    evidence says from whom. ``expected_version`` is the dispute version the reviewer
    saw: if another reviewer decided (or anything changed) since, ``DecisionConflict``
    is raised and nothing is overwritten."""
    if not can_review(actor, dispute.merchant_id):
        raise PermissionDenied(_("Only a support reviewer can decide this dispute."))
    if outcome not in Dispute.DECIDED:
        raise ValidationError({"outcome": _("Choose a decision.")})
    note = note.strip()
    if outcome == Dispute.Status.CLAIM_REJECTED and not note:
        raise ValidationError({"note": _("Say why the claim is rejected.")})
    if outcome == Dispute.Status.MORE_EVIDENCE:
        if requested_from not in Decision.RequestedFrom.values:
            raise ValidationError(
                {"outcome": _("Say whether the merchant or the buyer should send more evidence.")}
            )
    else:
        requested_from = ""
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if expected_version is not None and locked.version != expected_version:
            latest = locked.decisions.select_related("reviewer").first()
            if latest is not None and locked.is_decided:
                message = _(
                    "%(who)s already decided this dispute (%(outcome)s) while you were "
                    "reading it. Nothing was changed; read their decision first."
                ) % {"who": latest.reviewer.get_username(), "outcome": locked.get_status_display()}
            else:
                message = _(
                    "This dispute changed while you were reading it (new analysis, evidence "
                    "or statement). Nothing was changed; look at the latest version first."
                )
            raise DecisionConflict(message, code="conflict")
        # "More evidence requested" is not final; the other two outcomes are.
        if locked.status in Dispute.FINAL:
            raise DecisionConflict(_("This dispute has already been decided."), code="conflict")
        decision = Decision.objects.create(
            dispute=locked,
            reviewer=actor,
            outcome=outcome,
            requested_from=requested_from,
            note=note,
        )
        previous = locked.status
        locked.status = outcome
        locked.version += 1
        locked.save(update_fields=["status", "version", "updated_at"])
        audit_record(
            merchant=locked.merchant,
            dispute=locked,
            actor=actor,
            action="dispute.decided",
            data={"from": previous, "to": outcome, "requested_from": requested_from, "note": note},
        )
        events.send_on_commit(events.dispute_decided, locked.pk)
    return decision


def dispute_viewed(*, dispute: Dispute, actor: Any) -> None:
    """Record that someone opened the dispute (chain of custody: who saw the evidence):
    one of the merchant's people, or a reviewer whose scope includes it."""
    if not (is_member(actor, dispute.merchant_id) or can_review(actor, dispute.merchant_id)):
        raise PermissionDenied
    audit_record(merchant=dispute.merchant, dispute=dispute, actor=actor, action="dispute.viewed")


def internal_note_add(*, dispute: Dispute, actor: Any, text: str) -> InternalNote:
    """Add a support-staff note (never shown to the merchant)."""
    if not can_review(actor, dispute.merchant_id):
        raise PermissionDenied(_("Only a support reviewer can add internal notes."))
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the note first.")})
    with transaction.atomic():
        note = InternalNote.objects.create(dispute=dispute, author=actor, text=text)
        # The text stays out of the audit data: the trail may be shown to the merchant.
        audit_record(
            merchant=dispute.merchant,
            dispute=dispute,
            actor=actor,
            action="note.added",
            data={"note": note.pk, "sha256": hashlib.sha256(text.encode()).hexdigest()},
        )
    return note


def _merchant_answered(
    locked: Dispute,
    *,
    actor: Any,
    action: str,
    data: dict[str, Any],
    fields: Sequence[str] = (),
) -> None:
    """Record something the merchant added to a locked dispute: it answers a request for
    more evidence (back to review) and is a change a reviewer must see (new version)."""
    previous = locked.status
    if locked.status == Dispute.Status.MORE_EVIDENCE:
        locked.status = Dispute.Status.NEEDS_REVIEW
    locked.version += 1
    locked.save(update_fields=[*fields, "status", "version", "updated_at"])
    audit_record(
        merchant=locked.merchant,
        dispute=locked,
        actor=actor,
        action=action,
        data={**data, "from": previous, "to": locked.status},
    )


def merchant_statement_save(*, dispute: Dispute, actor: Any, text: str) -> Dispute:
    """Save the merchant's statement; it answers a request for more evidence."""
    if not is_member(actor, dispute.merchant_id):
        raise PermissionDenied(_("Only the merchant writes its statement."))
    text = text.strip()
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if locked.status in Dispute.FINAL:
            raise ValidationError(_("This dispute has been decided; the statement is closed."))
        if text == locked.merchant_statement:
            return locked
        locked.merchant_statement = text
        locked.statement_updated_at = timezone.now()
        _merchant_answered(
            locked,
            actor=actor,
            action="statement.saved",
            data={"text": text},
            fields=["merchant_statement", "statement_updated_at"],
        )
    return locked


def dispute_reanalyse(
    *,
    merchant: Merchant,
    actor: Any | None = None,
    only_unmatched: bool = False,
    evidence: NewEvidence | None = None,
) -> int:
    """Re-analyse the claim photos of the merchant's undecided disputes (after new
    evidence arrives); ``only_unmatched`` skips photos already matched to an original,
    since more evidence cannot unmatch them; ``evidence`` (the new originals) keeps only
    the photos it could change (``disputes.reanalysis``). Returns how many were queued."""
    from disputes.tasks import claim_image_analyze_task

    if not acts_for(actor, merchant):
        raise PermissionDenied(_("Only the merchant's own people ask for a new analysis."))
    candidates = ClaimImage.objects.filter(dispute__merchant=merchant).exclude(
        dispute__status__in=Dispute.FINAL
    )
    if only_unmatched:
        candidates = candidates.filter(analysis_status=ClaimImage.Status.ANALYSED).exclude(
            findings__code=FindingCode.DERIVED_FROM_ORIGINAL
        )
    if evidence is not None:
        # The matcher runs per photo here, outside the transaction; the photos it keeps
        # are those still in the same state when the transaction below looks again.
        kept = claims_it_could_change(evidence, list(candidates.values_list("pk", flat=True)))
        candidates = candidates.filter(pk__in=kept)
    with transaction.atomic():
        images = list(candidates.values_list("pk", flat=True).distinct())
        if not images:
            return 0
        ClaimImage.objects.filter(pk__in=images).update(analysis_status=ClaimImage.Status.PENDING)
        Dispute.objects.filter(claim_images__in=images).exclude(status__in=Dispute.FINAL).update(
            status=Dispute.Status.ANALYSING, version=F("version") + 1
        )
        audit_record(
            merchant=merchant,
            actor=actor,
            action="disputes.reanalyse",
            data={
                "claim_images": len(images),
                **({"after": evidence.label} if evidence is not None else {}),
            },
        )
        for image_id in images:
            enqueue_on_commit(claim_image_analyze_task, image_id)
    return len(images)


def claim_image_requeue(*, claim_image: ClaimImage, actor: Any | None) -> None:
    """Analyse one claim photo again (e.g. after a failure); the merchant's own people
    only."""
    from disputes.tasks import claim_image_analyze_task

    if not acts_for(actor, claim_image.merchant_id):
        raise PermissionDenied(_("Only the merchant's own people ask for a new analysis."))
    with transaction.atomic():
        image = ClaimImage.objects.select_for_update().get(pk=claim_image.pk)
        image.analysis_status = ClaimImage.Status.PENDING
        image.save(update_fields=["analysis_status"])
        dispute = Dispute.objects.select_for_update().get(pk=image.dispute_id)
        if dispute.status not in Dispute.FINAL:
            dispute.status = Dispute.Status.ANALYSING
            dispute.version += 1
            dispute.save(update_fields=["status", "version", "updated_at"])
        audit_record(
            merchant=dispute.merchant,
            dispute=dispute,
            actor=actor,
            action="claim_image.requeued",
            data={"claim_image": image.pk},
        )
        image_id = image.pk
        enqueue_on_commit(claim_image_analyze_task, image_id)


@dataclass(frozen=True)
class AttachedFile:
    """What happened to one file the merchant attached to a dispute."""

    name: str
    status: str  # "stored", "duplicate" or "rejected"
    message: str


def dispute_evidence_attach(
    *,
    dispute: Dispute,
    actor: Any,
    product: Product | None,
    photos: list[tuple[File[Any], str]],
    video: tuple[File[Any], str] | None,
) -> list[AttachedFile]:
    """File more evidence from the dispute page: product photos into the evidence
    library and the packing video of the dispute's order. Each file stands alone (a bad
    one is reported, the good ones are kept); new evidence re-runs the analysis of the
    merchant's open disputes once fingerprinted, and answers a request for more evidence."""
    from evidence import services as evidence_services

    if not is_member(actor, dispute.merchant_id):
        raise PermissionDenied(_("Only the merchant attaches its evidence."))
    if photos and product is None:
        raise ValidationError({"product": _("Choose the product these photos show.")})
    if product is not None and product.merchant_id != dispute.merchant_id:
        raise ValidationError({"product": _("That product belongs to another merchant.")})
    if not photos and video is None:
        raise ValidationError(_("Choose at least one photo or a video."))
    results: list[AttachedFile] = []
    stored: list[dict[str, str]] = []
    for upload, name in photos:
        try:
            outcome = evidence_services.photo_ingest(
                product=cast(Product, product), upload=upload, filename=name, uploader=actor
            )
        except ValidationError as exc:
            results.append(AttachedFile(name, "rejected", " ".join(exc.messages)))
            continue
        results.append(AttachedFile(name, outcome.status, ""))
        stored.append({"kind": "photo", "name": name, "sha256": outcome.obj.sha256})
    if video is not None:
        upload, name = video
        try:
            outcome = evidence_services.video_ingest(
                merchant=dispute.merchant,
                order_ref=dispute.order_ref,
                upload=upload,
                filename=name,
                uploader=actor,
            )
        except ValidationError as exc:
            results.append(AttachedFile(name, "rejected", " ".join(exc.messages)))
        else:
            results.append(AttachedFile(name, outcome.status, ""))
            stored.append({"kind": "video", "name": name, "sha256": outcome.obj.sha256})
    if stored:
        with transaction.atomic():
            locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
            _merchant_answered(
                locked, actor=actor, action="evidence.attached", data={"files": stored}
            )
    return results
