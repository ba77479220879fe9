"""Tenancy writes (the admin and the operators' scripts create merchants), and the time
zones a merchant's owner and a support reviewer choose."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.access import is_owner
from core.audit import audit_record
from core.models import Membership, Merchant, Reviewer
from core.timezones import validate_time_zone


def merchant_create(*, slug: str, name: str, owner: Any | None = None) -> Merchant:
    """Create a merchant, optionally with its first owner."""
    with transaction.atomic():
        merchant = Merchant.objects.create(slug=slug, name=name)
        if owner is not None:
            Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)
    return merchant


def _checked_time_zone(name: str) -> str:
    name = name.strip()
    try:
        validate_time_zone(name)
    except ValidationError as exc:
        raise ValidationError({"time_zone": exc.messages}) from exc
    return name


def merchant_time_zone_set(*, merchant: Merchant, actor: Any | None, time_zone: str) -> Merchant:
    """Set the zone the merchant's deadlines are typed and shown in (its owner only).
    Stored times do not move: a deadline keeps its instant and reads in the new zone.
    The change is audited (it changes how later typed times are read)."""
    if actor is not None and not is_owner(actor, merchant):
        raise PermissionDenied(_("Only the merchant's owner sets its time zone."))
    time_zone = _checked_time_zone(time_zone)
    previous = merchant.time_zone
    if time_zone == previous:
        return merchant
    with transaction.atomic():
        Merchant.objects.filter(pk=merchant.pk).update(time_zone=time_zone)
        merchant.time_zone = time_zone
        audit_record(
            merchant=merchant,
            actor=actor,
            action="merchant.time_zone_set",
            data={"from": previous, "to": time_zone},
        )
    return merchant


def reviewer_time_zone_set(*, reviewer: Reviewer, actor: Any | None, time_zone: str) -> Reviewer:
    """Set a support reviewer's own zone (their own choice, or the system's)."""
    if actor is not None and actor.pk != reviewer.user_id:
        raise PermissionDenied(_("Reviewers choose their own time zone."))
    reviewer.time_zone = _checked_time_zone(time_zone)
    reviewer.save(update_fields=["time_zone"])
    return reviewer
