"""Check the chain of custody: re-hash every stored original, hold its recorded SHA-256
to the one its upload's audit event recorded, walk every keyed audit chain (one per
merchant, and the closed platform-wide chain of the events from before them) and compare
them with the anchors kept outside the database (the local anchor log, and the shared
anchor objects when S3 is configured). ``--merchant SLUG`` checks one
merchant: its originals, its chain (and the platform-wide chain when it has events
there) and their anchors.

Exit status 0 when every file matches its recorded SHA-256, every SHA-256 matches its
upload event, every audit event's hash (HMAC under ``REFUNDGUARD_AUDIT_KEY``), link and
position verify, and every anchored event is still in the table with its anchored hash;
1 otherwise, after naming each altered, missing or re-labelled file, the first broken
link of each chain, and each truncation or rewrite the anchors show (and for an unknown
``--merchant``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.audit import ChainBreak, audit_anchor_check, audit_chain_check, chain_names
from core.models import AuditEvent, Merchant
from disputes.models import ClaimImage
from evidence.models import PackingVideo, ReferencePhoto

CHUNK = 1024 * 1024

#: ``evidence.uploaded``'s ``kind`` → the label of the original it records.
UPLOADED_KINDS = {"photos": "reference photo", "videos": "packing video"}
#: Events that record claim photos as they were stored (``data["claim_images"]``).
CLAIM_UPLOADS = ("dispute.opened", "claim_images.added")
#: How each kind of chain break reads.
BREAK_REASONS = {
    "link": "its previous hash is not the hash of the event before it",
    "position": "its position is not the one after the event before it",
    "hash": "its content does not hash to its recorded hash (keyed: HMAC under "
    "REFUNDGUARD_AUDIT_KEY)",
    "downgrade": "it is hashed without the key after keyed events (a merchant's chain is "
    "keyed throughout)",
    "scheme": "its hash scheme is unknown",
    "closed": "it joined the platform-wide chain after the per-merchant chains began",
}
#: The anchor check's kinds of problem → the output's label.
ANCHOR_LABELS = {
    "truncated": "TRUNCATED",
    "rewritten": "REWRITTEN",
    "missing": "DELETED ",
    "unreadable": "ANCHORS ",
}


@dataclass
class RecordedUploads:
    """The SHA-256 each upload's audit event recorded: by (label, id), and for claim
    photos recorded before their id was, by (dispute id, file name)."""

    by_id: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    by_name: dict[tuple[int | None, str], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )

    def check(self, label: str, obj: Any) -> str | None:
        """What is wrong with ``obj``'s recorded SHA-256, or ``None``."""
        recorded = self.by_id.get((label, obj.pk))
        if recorded is not None:
            sha256, event = recorded
            if sha256 != obj.sha256:
                return (
                    f"CHANGED  {label} {obj.pk} ({obj.original_name}): its SHA-256 column says "
                    f"{obj.sha256}, its upload (audit event {event}) recorded {sha256}"
                )
            return None
        legacy = self.by_name.get((getattr(obj, "dispute_id", None), obj.original_name))
        if label == "claim image" and legacy:
            if obj.sha256 in legacy:
                return None
            return (
                f"CHANGED  {label} {obj.pk} ({obj.original_name}): its SHA-256 column says "
                f"{obj.sha256}, its upload recorded {', '.join(sorted(legacy))}"
            )
        return f"UNRECORDED {label} {obj.pk} ({obj.original_name}): no upload event records it"


def recorded_uploads(merchant: int | None = None) -> RecordedUploads:
    """Read every upload event's recorded SHA-256 (photos, videos and claim photos), of
    one merchant when ``merchant`` is given."""
    recorded = RecordedUploads()
    events = AuditEvent.objects.filter(action__in=["evidence.uploaded", *CLAIM_UPLOADS])
    if merchant is not None:
        events = events.filter(merchant_id=merchant)
    rows = events.order_by("id").values_list("id", "action", "dispute_id", "data")
    for event, action, dispute_id, data in rows.iterator():
        if not isinstance(data, dict):
            continue
        if action == "evidence.uploaded":
            label = UPLOADED_KINDS.get(data.get("kind", ""))
            if label is not None and isinstance(data.get("id"), int):
                recorded.by_id[(label, data["id"])] = (str(data.get("sha256")), event)
            continue
        for entry in data.get("claim_images") or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), int):
                recorded.by_id[("claim image", entry["id"])] = (str(entry.get("sha256")), event)
            elif isinstance(entry, dict):
                # Recorded before claim photos' ids were: matched by dispute and name.
                recorded.by_name[(dispute_id, str(entry.get("name")))].add(str(entry.get("sha256")))
    return recorded


def chain_problems(breaks: list[ChainBreak]) -> Iterable[str]:
    """Each broken chain's first break, and its first downgrade when that is another."""
    by_chain: dict[int | None, list[ChainBreak]] = defaultdict(list)
    for item in breaks:
        by_chain[item.chain].append(item)
    names = chain_names(by_chain)
    for chain, items in by_chain.items():
        first = AuditEvent.objects.get(pk=items[0].event)
        yield (
            f"BROKEN   audit chain at event {first.pk} ({first.created_at:%Y-%m-%d %H:%M:%S} "
            f"{first.action}), {names[chain]}: {BREAK_REASONS[items[0].reason]}; "
            f"{len(items)} event(s) do not verify"
        )
        downgrades = [item.event for item in items if item.reason == "downgrade"]
        if downgrades and downgrades[0] != first.pk:
            yield f"BROKEN   audit event {downgrades[0]}: {BREAK_REASONS['downgrade']}"


def file_sha256(name: str) -> str | None:
    """SHA-256 of a stored file, or ``None`` when it is missing."""
    if not name or not default_storage.exists(name):
        return None
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = (
        "Re-hash every stored original, hold it to its upload's audit event, and verify "
        "every keyed audit chain (one per merchant) against the anchor log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--merchant",
            metavar="SLUG",
            help="check one merchant only: its originals, its audit chain (and the "
            "platform-wide chain from before per-merchant chains when it has events there) "
            "and their anchors",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        merchant: int | None = None
        if options["merchant"]:
            found = Merchant.objects.filter(slug=options["merchant"]).values_list("pk", flat=True)
            merchant = found.first()
            if merchant is None:
                raise CommandError(f"no merchant with the slug {options['merchant']!r}")
        scope = {} if merchant is None else {"merchant_id": merchant}
        kinds = [
            ("reference photo", ReferencePhoto.objects.filter(**scope)),
            ("packing video", PackingVideo.objects.filter(**scope)),
            ("claim image", ClaimImage.objects.filter(**scope)),
        ]
        total = sum(qs.count() for _, qs in kinds)
        problems: list[str] = []
        checked = 0
        recorded = recorded_uploads(merchant)
        with tqdm(total=total, unit="file", disable=options["verbosity"] < 1) as bar:
            for label, queryset in kinds:
                fields = ["pk", "file", "sha256", "original_name"]
                if label == "claim image":
                    fields.append("dispute_id")
                for obj in queryset.only(*fields).iterator():
                    actual = file_sha256(obj.file.name or "")
                    if actual is None:
                        problems.append(
                            f"MISSING  {label} {obj.pk} ({obj.original_name}): {obj.file.name}"
                        )
                    elif actual != obj.sha256:
                        problems.append(
                            f"ALTERED  {label} {obj.pk} ({obj.original_name}): {obj.file.name} "
                            f"has SHA-256 {actual}, recorded {obj.sha256}"
                        )
                    # A column updated to match a swapped file still disagrees with this.
                    mismatch = recorded.check(label, obj)
                    if mismatch is not None:
                        problems.append(mismatch)
                    checked += 1
                    bar.update(1)
        problems.extend(chain_problems(audit_chain_check(merchant=merchant)))
        walked = AuditEvent.objects.filter(**scope)
        chains = walked.filter(seq__isnull=False).values("merchant_id").distinct().count()
        if walked.filter(seq__isnull=True).exists():
            # Checked whole: every event of the platform-wide chain was walked.
            walked = walked.filter(seq__isnull=False) | AuditEvent.objects.filter(seq__isnull=True)
            chains += 1
        events = walked.count()
        anchors = audit_anchor_check(merchant=merchant)
        problems.extend(f"{ANCHOR_LABELS[kind]} {message}" for kind, message in anchors.problems)
        self.stdout.write(
            f"{checked} original file(s) re-hashed, {events} audit event(s) walked in "
            f"{chains} chain(s)."
        )
        if anchors.found:
            self.stdout.write(f"{anchors.anchors} anchored event(s) checked in {anchors.where}.")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"No anchors in {anchors.where}: deleted or rewritten events cannot be "
                    "checked against it."
                )
            )
        if problems:
            for line in problems:
                self.stdout.write(self.style.ERROR(line))
            raise CommandError(f"chain of custody broken: {len(problems)} problem(s)", returncode=1)
        self.stdout.write(self.style.SUCCESS("Chain of custody intact."))
