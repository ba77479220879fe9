"""What the API reads and writes, field by field (also the OpenAPI schema)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.models import ChunkedUpload
from disputes.buyer_history import buyer_counts
from disputes.models import ClaimImage, Decision, Dispute, Finding, RiskLevel
from evidence.models import PackingVideo, Product, ReferencePhoto, VideoKeyframe
from evidence.uploads import clean_filename
from forensics.findings import FINDING_KINDS, Audience, finding_sentence
from packs.models import EvidencePack


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A read-only choice that is empty in the database and ``null`` in the API."""

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices=choices, allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return value or None


class ProductSerializer(serializers.ModelSerializer[Product]):
    """A product; ``title`` defaults to the SKU."""

    class Meta:
        model = Product
        fields = ["id", "sku", "title", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"title": {"required": False, "allow_blank": True}}


class ReferencePhotoSerializer(serializers.ModelSerializer[ReferencePhoto]):
    """A reference photo; ``status`` becomes ``fingerprinted`` once a worker indexed it."""

    class Meta:
        model = ReferencePhoto
        fields = [
            "id",
            "product",
            "original_name",
            "sha256",
            "size_bytes",
            "content_type",
            "width",
            "height",
            "status",
            "failure_reason",
            "uploaded_at",
            "processed_at",
        ]
        read_only_fields = fields


#: The formats a photo field takes (forensics.fingerprints.PHOTO_FORMATS), for the schema.
PHOTO_FILES_HELP = (
    "JPEG, PNG, WebP, HEIC/HEIF or AVIF photos, recognised by their content; GIF, TIFF "
    "and DNG camera raw files are refused."
)


class PhotoUploadSerializer(serializers.Serializer[Any]):
    """One or more photo files (``files``, repeated in the multipart body)."""

    files = serializers.ListField(
        child=serializers.FileField(), allow_empty=False, help_text=PHOTO_FILES_HELP
    )


class PhotoUploadResultSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["stored", "duplicate", "rejected"])
    message = serializers.CharField(allow_blank=True)
    photo = ReferencePhotoSerializer(allow_null=True)


class KeyframeSerializer(serializers.ModelSerializer[VideoKeyframe]):
    class Meta:
        model = VideoKeyframe
        fields = ["id", "t_seconds", "width", "height"]
        read_only_fields = fields


class PackingVideoSerializer(serializers.ModelSerializer[PackingVideo]):
    """A packing video; ``status`` becomes ``ready`` when its keyframes are extracted."""

    class Meta:
        model = PackingVideo
        fields = [
            "id",
            "order_ref",
            "original_name",
            "sha256",
            "size_bytes",
            "content_type",
            "container",
            "codec",
            "width",
            "height",
            "duration_seconds",
            "status",
            "failure_reason",
            "uploaded_at",
            "processed_at",
        ]
        read_only_fields = fields


class PackingVideoDetailSerializer(PackingVideoSerializer):
    keyframes = KeyframeSerializer(many=True, read_only=True)

    class Meta(PackingVideoSerializer.Meta):
        fields = [*PackingVideoSerializer.Meta.fields, "keyframes"]
        read_only_fields = fields


class PackingVideoCreateSerializer(serializers.Serializer[Any]):
    """The order number and either the file itself or a finished chunked ``upload``."""

    order_ref = serializers.CharField(max_length=100)
    file = serializers.FileField(required=False)
    upload = serializers.UUIDField(required=False, help_text="Id of a complete chunked upload.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("file") and attrs.get("upload"):
            raise serializers.ValidationError("Send either `file` or `upload`, not both.")
        if not attrs.get("file") and not attrs.get("upload"):
            raise serializers.ValidationError(
                "Send the video as `file`, or the id of a finished chunked `upload`."
            )
        return attrs


class ChunkedUploadSerializer(serializers.ModelSerializer[ChunkedUpload]):
    """A resumable upload: ``PATCH`` bytes at ``offset`` until ``offset == size``."""

    complete = serializers.BooleanField(source="is_complete", read_only=True)

    class Meta:
        model = ChunkedUpload
        fields = ["id", "filename", "size", "offset", "complete", "created_at"]
        read_only_fields = ["id", "offset", "complete", "created_at"]

    def validate_filename(self, value: str) -> str:
        """The name the finished video will carry, refused now rather than after the
        client has sent every byte."""
        try:
            return clean_filename(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_size(self, value: int) -> int:
        if value <= 0:
            raise serializers.ValidationError("Must be a positive number of bytes.")
        if value > settings.VIDEO_MAX_BYTES:
            raise serializers.ValidationError(
                f"Larger than the {settings.VIDEO_MAX_BYTES} byte limit."
            )
        return value


class FindingSerializer(serializers.ModelSerializer[Finding]):
    """One reason, with the facts behind it (``evidence`` keys depend on ``code``).

    ``message`` speaks to the token's merchant ("your photo …"): a token acts for one
    merchant, and no field of the API is meant for support reviewers."""

    message = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = ["code", "weight", "message", "evidence"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_message(self, finding: Finding) -> str:
        """The kind's English sentence rebuilt from the evidence, as the pages do (so a row
        stored before a wording fix reads as today); the stored text for a retired kind."""
        if finding.code not in FINDING_KINDS:
            return finding.message
        return finding_sentence(finding.code, finding.evidence or {}, audience=Audience.MERCHANT)


class ClaimImageSerializer(serializers.ModelSerializer[ClaimImage]):
    findings = FindingSerializer(many=True, read_only=True)
    region = serializers.SerializerMethodField()
    risk_level = BlankAsNullChoiceField(RiskLevel.choices)

    class Meta:
        model = ClaimImage
        fields = [
            "id",
            "original_name",
            "sha256",
            "size_bytes",
            "width",
            "height",
            "uploaded_at",
            "analysis_status",
            "failure_reason",
            "risk_score",
            "risk_level",
            "region",
            "findings",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.IntegerField(), min_length=4, max_length=4)
    )
    def get_region(self, image: ClaimImage) -> list[int] | None:
        """Changed region ``[x, y, width, height]`` in the claim's pixels, or null."""
        return list(image.region) if image.region else None


class DecisionSerializer(serializers.ModelSerializer[Decision]):
    requested_from = BlankAsNullChoiceField(Decision.RequestedFrom.choices)

    class Meta:
        model = Decision
        fields = ["id", "outcome", "requested_from", "note", "created_at"]
        read_only_fields = fields


class DisputeSerializer(serializers.ModelSerializer[Dispute]):
    """A dispute as listed."""

    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    risk_level = BlankAsNullChoiceField(RiskLevel.choices)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "platform",
            "external_id",
            "order_ref",
            "buyer_ref",
            "product",
            "claim_type",
            "reason",
            "amount",
            "currency",
            "opened_at",
            "respond_by",
            "status",
            "risk_score",
            "risk_level",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BuyerHistorySerializer(serializers.Serializer[Any]):
    """The buyer's other disputes up to this one: with you, and counted across all
    merchants (numbers only)."""

    with_merchant = serializers.IntegerField()
    all_merchants = serializers.IntegerField()
    high_risk = serializers.IntegerField()
    rejected = serializers.IntegerField()


class DisputeDetailSerializer(DisputeSerializer):
    """A dispute with every claim photo's verdict and findings, the decisions, and the
    buyer's history."""

    claim_images = ClaimImageSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    buyer_history = serializers.SerializerMethodField()

    class Meta(DisputeSerializer.Meta):
        fields = [
            *DisputeSerializer.Meta.fields,
            "merchant_statement",
            "claim_images",
            "decisions",
            "buyer_history",
        ]
        read_only_fields = fields

    @extend_schema_field(BuyerHistorySerializer)
    def get_buyer_history(self, dispute: Dispute) -> dict[str, int]:
        """Counts of the buyer's other disputes (see ``disputes.buyer_history``)."""
        return dataclasses.asdict(buyer_counts(dispute))


class DisputeCreateSerializer(serializers.Serializer[Any]):
    """A new dispute and the buyer's photos (``photos``, repeated), in one request."""

    platform = serializers.ChoiceField(choices=Dispute.Platform.choices)
    external_id = serializers.CharField(max_length=100)
    order_ref = serializers.CharField(max_length=100)
    buyer_ref = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    product = serializers.IntegerField(required=False, allow_null=True, default=None)
    claim_type = serializers.ChoiceField(choices=Dispute.ClaimType.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", default="CNY")
    # ISO 8601 with any offset; without one, read in the merchant's time zone.
    opened_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="ISO 8601; a time without an offset is read in the merchant's time zone.",
    )
    respond_by = serializers.DateTimeField(
        help_text="ISO 8601; a time without an offset is read in the merchant's time zone."
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text=PHOTO_FILES_HELP
    )


class ClaimImagesAddSerializer(serializers.Serializer[Any]):
    photos = serializers.ListField(
        child=serializers.FileField(), allow_empty=False, help_text=PHOTO_FILES_HELP
    )


class StatementSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(allow_blank=True, max_length=10000)


class EvidencePackSerializer(serializers.ModelSerializer[EvidencePack]):
    """An evidence pack: its build progress, and its files once ready."""

    dispute = serializers.PrimaryKeyRelatedField(read_only=True)
    pdf_url = serializers.SerializerMethodField()
    zip_url = serializers.SerializerMethodField()

    class Meta:
        model = EvidencePack
        fields = [
            "id",
            "dispute",
            "status",
            "progress",
            "step",
            "failure_reason",
            "pdf_pages",
            "archive_sha256",
            "archive_size",
            "omitted",
            "created_at",
            "finished_at",
            "pdf_url",
            "zip_url",
        ]
        read_only_fields = fields

    def _url(self, pack: EvidencePack, name: str) -> str | None:
        if pack.status != EvidencePack.Status.READY:
            return None
        from django.urls import reverse

        path = reverse(f"api:evidence-pack-{name}", args=[pack.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_pdf_url(self, pack: EvidencePack) -> str | None:
        """Where to download the PDF report (once ready)."""
        return self._url(pack, "pdf")

    def get_zip_url(self, pack: EvidencePack) -> str | None:
        """Where to download the ZIP archive (once ready)."""
        return self._url(pack, "zip")
