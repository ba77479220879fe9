"""Forms for disputes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disputes.models import Dispute
from evidence.forms import MultipleFileField, MultipleFileInput
from evidence.models import Merchant, Product

PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"


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
    respond_by = forms.DateTimeField(
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
        self.fields["respond_by"].initial = (timezone.now() + timedelta(days=2)).strftime(
            "%Y-%m-%dT%H:%M"
        )

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
    """A person's decision on a dispute."""

    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Dispute.Status.REFUND_APPROVED.value, _("Approve the refund")),
            (Dispute.Status.CLAIM_REJECTED.value, _("Reject the claim")),
            (Dispute.Status.MORE_EVIDENCE.value, _("Request more evidence")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Reason / note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
