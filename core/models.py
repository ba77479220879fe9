"""What every app shares: the tenancy (merchants, the people who act for them, support
reviewers) and the append-only, hash-chained audit trail.

The tables keep the names they had in the apps these models came from
(``evidence_merchant`` …, ``disputes_auditevent``): the move changed no schema.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.timezones import (
    DEFAULT_MERCHANT_TIME_ZONE,
    DEFAULT_REVIEWER_TIME_ZONE,
    TIME_ZONE_MAX_LENGTH,
    validate_time_zone,
)


class Merchant(models.Model):
    """A shop whose evidence RefundGuard keeps."""

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    #: Deadlines are typed and shown in this zone (stored in UTC); see ``core.timezones``.
    time_zone = models.CharField(
        _("time zone"),
        max_length=TIME_ZONE_MAX_LENGTH,
        default=DEFAULT_MERCHANT_TIME_ZONE,
        validators=[validate_time_zone],
        help_text=_("Deadlines are typed and shown in this zone, e.g. Asia/Shanghai."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "evidence_merchant"
        ordering = ["name"]
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user who acts for a merchant."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        AGENT = "agent", _("Agent")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "evidence_membership"
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="membership_user_merchant")
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"


class Reviewer(models.Model):
    """A RefundGuard support-staff member who reviews and decides disputes.

    Reviewers are internal: they read the evidence of the merchants in their scope
    (every merchant, or the ones listed) but never upload it, and merchants never see
    the review queue or the reviewers' internal notes.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer"
    )
    all_merchants = models.BooleanField(
        _("reviews every merchant"),
        default=False,
        help_text=_("Leave unticked to limit this reviewer to the merchants listed."),
    )
    merchants = models.ManyToManyField(
        Merchant, blank=True, related_name="reviewers", verbose_name=_("merchants")
    )
    is_active = models.BooleanField(_("active"), default=True)
    #: The reviewer's own zone: deadlines are shown in it beside the merchant's.
    time_zone = models.CharField(
        _("time zone"),
        max_length=TIME_ZONE_MAX_LENGTH,
        default=DEFAULT_REVIEWER_TIME_ZONE,
        validators=[validate_time_zone],
        help_text=_("Deadlines are also shown in this zone, beside the merchant's."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "evidence_reviewer"
        verbose_name = _("reviewer")
        verbose_name_plural = _("reviewers")

    def __str__(self) -> str:
        return str(self.user)


class AppendOnlyError(RuntimeError):
    """Audit events are never changed or deleted."""


class AuditEvent(models.Model):
    """An append-only record; each event carries the hash of the one before it in its
    merchant's chain (``seq`` is its position there, from 1).

    Events recorded before the chains were per merchant have no ``seq``: they form the
    closed platform-wide chain of that time, in id order, kept exactly as written (their
    hashes are what the anchor log and earlier evidence packs recorded)."""

    class HashScheme(models.TextChoices):
        """How ``hash`` was made: plain SHA-256 before the chain was keyed, HMAC since."""

        SHA256 = "sha256", "SHA-256"
        HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField(
        _("position in the merchant's chain"), null=True, blank=True, editable=False
    )
    # By name: core imports no app, and an event may concern a dispute.
    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Events before the key existed stay plain SHA-256; no keyed event may follow them.
    hash_scheme = models.CharField(
        max_length=16, choices=HashScheme.choices, default=HashScheme.HMAC_SHA256
    )

    class Meta:
        # The PostgreSQL trigger that refuses UPDATE and DELETE is on this table.
        db_table = "disputes_auditevent"
        ordering = ["id"]
        constraints = [
            # One event per position: two writers can never both chain onto the same
            # parent, whatever lock they took. Partial, so the closed platform-wide chain
            # (no seq) is outside it, and it serves the head lookup and the chain walk.
            models.UniqueConstraint(
                fields=["merchant", "seq"],
                condition=models.Q(seq__isnull=False),
                name="audit_event_merchant_seq",
            ),
        ]
        indexes = [
            # The closed platform-wide chain (no seq), walked in id order: never grows.
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="audit_event_platform"
            ),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        if self.seq is None:
            raise AppendOnlyError("the platform-wide audit chain is closed: give a position")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")

    def compute_hash(self, key: str | None = None) -> str:
        """The hash of the previous hash and this event's canonical content, by the
        event's scheme: HMAC-SHA256 under ``key`` (default ``REFUNDGUARD_AUDIT_KEY``), or
        plain SHA-256 for events recorded before the chain was keyed."""
        content: dict[str, Any] = {
            "prev": self.prev_hash,
            "merchant": self.merchant_id,
            "dispute": self.dispute_id,
            "actor": self.actor_id,
            "action": self.action,
            "data": self.data,
            "at": self.created_at.isoformat(),
        }
        if self.seq is not None:  # only in a merchant's chain: older events still verify
            content["seq"] = self.seq
        if self.ip:  # only when known, so events recorded before the field still verify
            content["ip"] = self.ip
        body = json.dumps(
            content,
            sort_keys=True,
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
        )
        if self.hash_scheme == self.HashScheme.SHA256:
            return hashlib.sha256(body.encode()).hexdigest()
        if self.hash_scheme != self.HashScheme.HMAC_SHA256:
            raise ValueError(f"unknown audit hash scheme {self.hash_scheme!r}")
        secret = settings.REFUNDGUARD_AUDIT_KEY if key is None else key
        return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
