"""Forms for disputes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import ZonedDateTimeField
from core.models import Merchant
from disputes.models import Decision, Dispute, RiskLevel
from evidence.forms import PHOTO_ACCEPT, MultipleFileField, MultipleFileInput
from evidence.models import Product


class DisputeForm(forms.Form):
    """A new dispute and the buyer's photos."""

    platform = forms.ChoiceField(label=_("Platform"), choices=Dispute.Platform.choices)
    external_id = forms.CharField(label=_("Platform dispute id"), max_length=100)
    order_ref = forms.CharField(label=_("Order number"), max_length=100)
    buyer_ref = forms.CharField(label=_("Buyer reference"), max_length=100, required=False)
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False,
        empty_label=_("— not known —"),
    )  # fmt: skip
    claim_type = forms.ChoiceField(label=_("Claim type"), choices=Dispute.ClaimType.choices)
    reason = forms.CharField(
        label=_("Buyer's reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=0)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")
    # Typed in the merchant's zone, as the platform shows it (``__init__`` sets the zone).
    respond_by = ZonedDateTimeField(
        label=_("Respond by"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    photos = MultipleFileField(
        label=_("Buyer's photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": PHOTO_ACCEPT}),
    )

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(merchant=merchant)  # type: ignore[attr-defined]
        respond_by = self.fields["respond_by"]
        assert isinstance(respond_by, ZonedDateTimeField)
        respond_by.zone_set(merchant.time_zone)
        respond_by.initial = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)

    def clean_currency(self) -> str:
        value = str(self.cleaned_data["currency"]).strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError(_("Use a three-letter currency code such as CNY or USD."))
        return value


class ClaimPhotosForm(forms.Form):
    """More buyer photos for an existing dispute."""

    photos = MultipleFileField(
        label=_("Photos"), widget=MultipleFileInput(attrs={"accept": PHOTO_ACCEPT})
    )


class DecisionForm(forms.Form):
    """A reviewer's decision; ``version`` is the dispute version the reviewer read."""

    ACTIONS = {
        "approve": (Dispute.Status.REFUND_APPROVED.value, ""),
        "reject": (Dispute.Status.CLAIM_REJECTED.value, ""),
        "ask_merchant": (Dispute.Status.MORE_EVIDENCE.value, Decision.RequestedFrom.MERCHANT.value),
        "ask_buyer": (Dispute.Status.MORE_EVIDENCE.value, Decision.RequestedFrom.BUYER.value),
    }

    action = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("approve", _("Approve the refund")),
            ("reject", _("Reject the claim")),
            ("ask_merchant", _("Ask the merchant for more evidence")),
            ("ask_buyer", _("Ask the buyer for more evidence")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a decision.")},
    )
    note = forms.CharField(
        label=_("Reason / message"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "reject" and not str(data.get("note", "")).strip():
            self.add_error("note", _("Say why the claim is rejected."))
        return data

    @property
    def outcome(self) -> tuple[str, str]:
        """(dispute outcome, evidence requested from) for the chosen action."""
        return self.ACTIONS[self.cleaned_data["action"]]


class InternalNoteForm(forms.Form):
    """A support-staff note."""

    text = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        error_messages={"required": _("Write the note first.")},
    )


class StatementForm(forms.Form):
    """The merchant's statement on the dispute."""

    text = forms.CharField(
        label=_("Your statement"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10000,
        required=False,
    )


class EvidenceAttachForm(forms.Form):
    """More evidence from the dispute page: product photos and/or the packing video."""

    product = forms.ModelChoiceField(
        label=_("Product shown"), queryset=Product.objects.none(), required=False,
        empty_label=_("— choose —"),
    )  # fmt: skip
    photos = MultipleFileField(
        label=_("Product photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": PHOTO_ACCEPT}),
    )
    video = forms.FileField(
        label=_("Packing video of this order"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "video/mp4,video/quicktime,video/webm,video/x-matroska,.mkv"}
        ),
    )

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(merchant=merchant)  # type: ignore[attr-defined]


class QueueFilterForm(forms.Form):
    """Filters of the review queue; bad values are ignored, never an error page."""

    q = forms.CharField(required=False, max_length=100)
    merchant = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    platform = forms.ChoiceField(
        required=False, choices=[("", _("Any platform")), *Dispute.Platform.choices]
    )
    risk = forms.ChoiceField(
        required=False,
        choices=[("", _("Any risk")), *RiskLevel.choices, ("none", _("Not yet scored"))],
    )
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("Awaiting a decision")),
            *[(s, Dispute.Status(s).label) for s in Dispute.AWAITING_DECISION],
            *[(s, Dispute.Status(s).label) for s in Dispute.FINAL],
            ("all", _("Any status")),
        ],
    )
    overdue = forms.BooleanField(required=False, label=_("Overdue only"))

    def __init__(self, *args: Any, merchants: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"].choices = [  # type: ignore[attr-defined]
            ("", _("Any merchant")),
            *[(m.pk, m.name) for m in merchants],
        ]

    def filters(self) -> dict[str, Any]:
        """The valid filters as keyword arguments for ``selectors.review_queue``."""
        if not self.is_valid():
            # Keep whatever is valid; drop the rest.
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        else:
            data = self.cleaned_data
        return {
            "query": data.get("q") or "",
            "merchant_id": data.get("merchant"),
            "platform": data.get("platform") or "",
            "risk": data.get("risk") or "",
            "status": data.get("status") or "",
            "overdue": bool(data.get("overdue")),
        }
