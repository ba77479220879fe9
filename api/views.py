"""REST endpoints (``/api/v1/``). Thin: every read goes through the same selectors as the
web pages, narrowed to the token's merchant; every write through the same services as
the web pages and the workers."""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors, services
from api.errors import Conflict, from_django
from api.filters import DisputeFilter, PackingVideoFilter, ReferencePhotoFilter
from api.idempotency import idempotent
from api.models import ApiToken, ChunkedUpload
from api.parsers import FileKeepingMultiPartParser
from api.serializers import (
    ChunkedUploadSerializer,
    ClaimImagesAddSerializer,
    ClaimImageSerializer,
    DecisionSerializer,
    DisputeCreateSerializer,
    DisputeDetailSerializer,
    DisputeSerializer,
    EvidencePackSerializer,
    PackingVideoCreateSerializer,
    PackingVideoDetailSerializer,
    PackingVideoSerializer,
    PhotoUploadResultSerializer,
    PhotoUploadSerializer,
    ProductSerializer,
    ReferencePhotoSerializer,
    StatementSerializer,
)
from core.models import Merchant
from core.timezones import zone
from disputes import selectors as dispute_selectors
from disputes import services as dispute_services
from disputes.models import Dispute
from evidence import selectors as evidence_selectors
from evidence import services as evidence_services
from evidence.ids import database_id
from evidence.models import PackingVideo, Product, ReferencePhoto
from packs import selectors as pack_selectors
from packs import services as pack_services
from packs.models import EvidencePack

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Replaying a create with the same key returns the first result.",
)


def _merchant(request: Request) -> Merchant:
    token = request.auth
    assert isinstance(token, ApiToken)  # guaranteed by HasApiToken
    return token.merchant


class MerchantScoped:
    """Every object the API touches belongs to the token's merchant (404 otherwise); one
    object by id comes through its ``access_<thing>_by_id``, like on the pages."""

    request: Request
    kwargs: dict[str, Any]
    model: Any
    lookup_value_regex = "[0-9]+"

    @property
    def merchant(self) -> Merchant:
        return _merchant(self.request)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Once the token is checked, read and write times in its merchant's zone: a time
        sent without an offset is read in it, and responses carry its offset (+08:00 for
        Asia/Shanghai). ``core.http.TimeZoneMiddleware`` resets it after the request."""
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if isinstance(request.auth, ApiToken):
            timezone.activate(zone(request.auth.merchant.time_zone))

    @property
    def object_id(self) -> int | None:
        """The id in the URL (``None`` for one no database row can have: a 404)."""
        return database_id(self.kwargs.get("pk"))

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return self.model.objects.none()
        return self.scoped_queryset()

    def scoped_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError


@extend_schema_view(
    list=extend_schema(summary="List products"),
    retrieve=extend_schema(summary="A product"),
    create=extend_schema(
        summary="Create a product",
        parameters=[IDEMPOTENCY_HEADER],
        examples=[OpenApiExample("Mug", value={"sku": "MUG-001", "title": "Ceramic mug"})],
    ),
)
class ProductViewSet(
    MerchantScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Product],
):
    """The merchant's products (SKU unique per merchant)."""

    serializer_class = ProductSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["id", "sku", "created_at"]
    ordering = ["-id"]

    model = Product

    def scoped_queryset(self) -> QuerySet[Product]:
        return evidence_selectors.product_list(user=self.request.user, merchant=self.merchant)

    def get_object(self) -> Product:
        return evidence_selectors.access_product_by_id(
            self.request.user, self.object_id, merchant=self.merchant
        )

    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ProductSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = evidence_services.product_create(
            merchant=self.merchant,
            actor=request.user,
            sku=serializer.validated_data["sku"],
            title=serializer.validated_data.get("title", ""),
        )
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Upload reference photos of a product",
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: PhotoUploadResultSerializer(many=True)},
        parameters=[IDEMPOTENCY_HEADER],
        description="Each file gets its own result: `stored`, `duplicate` (same bytes "
        "already stored) or `rejected` with the reason. Fingerprinting runs in the "
        "background; poll `GET /photos/{id}/` until `status` is `fingerprinted`.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="photos",
        parser_classes=[FileKeepingMultiPartParser, FormParser],
    )
    @idempotent
    def photos(self, request: Request, pk: str | None = None) -> Response:
        product = self.get_object()
        serializer = PhotoUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results = []
        for upload in serializer.validated_data["files"]:
            name = upload.name or ""
            try:
                outcome = evidence_services.photo_ingest(
                    product=product, upload=upload, filename=name, uploader=request.user
                )
            except DjangoValidationError as exc:
                results.append(
                    {"name": name, "status": "rejected", "message": " ".join(exc.messages)}
                )
                continue
            results.append(
                {
                    "name": name,
                    "status": outcome.status,
                    "message": "",
                    "photo": ReferencePhotoSerializer(outcome.obj).data,
                }
            )
        for result in results:
            result.setdefault("photo", None)
        return Response(results, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List reference photos"),
    retrieve=extend_schema(summary="A reference photo and its fingerprinting status"),
)
class ReferencePhotoViewSet(
    MerchantScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[ReferencePhoto],
):
    """Reference photos (uploaded through ``POST /products/{id}/photos/``)."""

    serializer_class = ReferencePhotoSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ReferencePhotoFilter
    ordering_fields = ["id", "uploaded_at"]
    ordering = ["-id"]

    model = ReferencePhoto

    def scoped_queryset(self) -> QuerySet[ReferencePhoto]:
        return evidence_selectors.photo_list(user=self.request.user, merchant=self.merchant)

    def get_object(self) -> ReferencePhoto:
        return evidence_selectors.access_photo_by_id(
            self.request.user, self.object_id, merchant=self.merchant
        )


@extend_schema_view(
    list=extend_schema(summary="List packing videos"),
    retrieve=extend_schema(summary="A packing video with its keyframes"),
)
class PackingVideoViewSet(
    MerchantScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[PackingVideo],
):
    """Packing videos, by order number."""

    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = PackingVideoFilter
    ordering_fields = ["id", "uploaded_at"]
    ordering = ["-id"]

    model = PackingVideo

    def scoped_queryset(self) -> QuerySet[PackingVideo]:
        return evidence_selectors.video_list(user=self.request.user, merchant=self.merchant)

    def get_object(self) -> PackingVideo:
        return evidence_selectors.access_video_by_id(
            self.request.user, self.object_id, merchant=self.merchant
        )

    def get_serializer_class(self) -> Any:
        return PackingVideoDetailSerializer if self.action == "retrieve" else PackingVideoSerializer

    @extend_schema(
        summary="Upload a packing video",
        request={"multipart/form-data": PackingVideoCreateSerializer},
        responses={201: PackingVideoSerializer, 200: PackingVideoSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        description="Send the file in the multipart body, or the id of a complete chunked "
        "upload (`POST /uploads/`) for large files. 201 when stored, 200 when the same "
        "bytes were already stored. Keyframes are extracted in the background.",
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PackingVideoCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload_row: ChunkedUpload | None = None
        if data.get("upload"):
            upload_row = (
                selectors.open_uploads(user=request.user, merchant=self.merchant)
                .filter(pk=data["upload"])
                .first()
            )
            if upload_row is None:
                raise NotFound("No such unused upload.")
            if not upload_row.is_complete:
                raise Conflict(
                    f"The upload is incomplete: {upload_row.offset} of {upload_row.size} bytes."
                )
            upload: Any = services.upload_open(upload_row)
            filename = upload_row.filename
        else:
            upload = data["file"]
            filename = upload.name or ""
        try:
            outcome = evidence_services.video_ingest(
                merchant=self.merchant,
                order_ref=data["order_ref"],
                upload=upload,
                filename=filename,
                uploader=request.user,
            )
        finally:
            if upload_row is not None:
                upload.close()
        if upload_row is not None:
            services.upload_consume(upload=upload_row)
        code = status.HTTP_201_CREATED if outcome.is_new else status.HTTP_200_OK
        return Response(PackingVideoSerializer(outcome.obj).data, status=code)


#: What a PATCH of upload bytes may be sent as (the tus protocol's type first).
UPLOAD_BODY_TYPES = ("application/offset+octet-stream", "application/octet-stream")
UPLOAD_OFFSET = OpenApiParameter(
    "Upload-Offset",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    required=True,
    description="The offset these bytes start at (the upload's current `offset`).",
)


@extend_schema_view(
    create=extend_schema(
        summary="Start a resumable upload",
        examples=[OpenApiExample("Video", value={"filename": "ORDER-1.mp4", "size": 524288000})],
    ),
    retrieve=extend_schema(summary="Where a resumable upload stands (resume from `offset`)"),
)
class ChunkedUploadViewSet(
    MerchantScoped,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[ChunkedUpload],
):
    """Large files in pieces: ``POST`` the size, ``PATCH`` bytes at ``Upload-Offset``
    (any chunk size up to the whole), ``GET`` the offset after a dropped connection, then
    ``POST /videos/`` with ``upload``."""

    serializer_class = ChunkedUploadSerializer
    parser_classes = [JSONParser, FormParser, FileKeepingMultiPartParser]
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    model = ChunkedUpload

    def scoped_queryset(self) -> QuerySet[ChunkedUpload]:
        return selectors.open_uploads(user=self.request.user, merchant=self.merchant)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ChunkedUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = services.upload_start(
            merchant=self.merchant,
            actor=request.user,
            filename=serializer.validated_data["filename"],
            size=serializer.validated_data["size"],
        )
        response = Response(ChunkedUploadSerializer(upload).data, status=status.HTTP_201_CREATED)
        response["Upload-Offset"] = str(upload.offset)
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.get_object()
        response = Response(ChunkedUploadSerializer(upload).data)
        response["Upload-Offset"] = str(upload.offset)
        return response

    @extend_schema(
        summary="Send the next bytes",
        parameters=[UPLOAD_OFFSET],
        request={"application/offset+octet-stream": OpenApiTypes.BINARY},
        responses={
            200: ChunkedUploadSerializer,
            409: OpenApiResponse(description="Wrong offset; the body says the right one."),
        },
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.get_object()
        # Raw bytes only: a JSON or form body would be stored as the video's bytes.
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type not in UPLOAD_BODY_TYPES:
            raise exceptions.UnsupportedMediaType(
                media_type or "(none)",
                detail=f"Send the bytes as {UPLOAD_BODY_TYPES[0]}, not {media_type or 'nothing'}.",
            )
        try:
            offset = int(request.headers.get("Upload-Offset", ""))
            length = int(request.headers.get("Content-Length", ""))
        except ValueError:
            raise from_django(
                DjangoValidationError("Send Upload-Offset and Content-Length headers.")
            ) from None
        try:
            new_offset = services.upload_append(
                upload=upload,
                actor=request.user,
                offset=offset,
                stream=request.stream or io.BytesIO(),
                length=length,
            )
        except services.UploadOffsetMismatch as exc:
            conflict = Conflict(f"The upload is at offset {exc.expected}, not {offset}.")
            conflict.extra = {"offset": exc.expected}
            raise conflict from None
        upload.refresh_from_db()
        response = Response(ChunkedUploadSerializer(upload).data)
        response["Upload-Offset"] = str(new_offset)
        return response


@extend_schema_view(
    list=extend_schema(summary="List disputes"),
    retrieve=extend_schema(summary="A dispute with its findings, risk and decisions"),
)
class DisputeViewSet(
    MerchantScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Dispute],
):
    """Disputes: create with the buyer's photos, read the analysis, answer."""

    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = DisputeFilter
    ordering_fields = ["id", "created_at", "respond_by"]
    ordering = ["-id"]

    model = Dispute

    def scoped_queryset(self) -> QuerySet[Dispute]:
        return dispute_selectors.dispute_list(user=self.request.user, merchant=self.merchant)

    def get_object(self) -> Dispute:
        return dispute_selectors.access_dispute_by_id(
            self.request.user, self.object_id, merchant=self.merchant
        )

    def get_serializer_class(self) -> Any:
        return DisputeSerializer if self.action == "list" else DisputeDetailSerializer

    def _detail(self, dispute: Dispute, code: int = status.HTTP_200_OK) -> Response:
        fresh = dispute_selectors.access_dispute_by_id(
            self.request.user, dispute.pk, merchant=self.merchant
        )
        return Response(DisputeDetailSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Open a dispute with the buyer's photos",
        request={"multipart/form-data": DisputeCreateSerializer},
        responses={201: DisputeDetailSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        description="All or nothing: one bad photo refuses the whole request (400, with "
        "the file named) and nothing is stored. Analysis starts at once; poll the dispute "
        "or register a webhook for `dispute.analysis_completed`.",
        examples=[
            OpenApiExample(
                "Taobao refund-only claim",
                value={
                    "platform": "taobao",
                    "external_id": "TB-20261126-0001",
                    "order_ref": "ORDER-1001",
                    "buyer_ref": "tb_buyer_8812",
                    "claim_type": "refund_only",
                    "reason": "Cup arrived cracked",
                    "amount": "129.00",
                    "currency": "CNY",
                    "respond_by": "2026-11-28T12:00:00+08:00",
                },
                request_only=True,
            )
        ],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DisputeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        product = None
        if data.get("product") is not None:
            try:
                product = evidence_selectors.access_product_by_id(
                    request.user, data["product"], merchant=self.merchant
                )
            except Http404:
                raise from_django(DjangoValidationError({"product": "No such product."})) from None
        dispute = dispute_services.dispute_open(
            merchant=self.merchant,
            actor=request.user,
            platform=data["platform"],
            external_id=data["external_id"],
            order_ref=data["order_ref"],
            buyer_ref=data["buyer_ref"],
            product=product,
            claim_type=data["claim_type"],
            reason=data["reason"],
            amount=data["amount"],
            currency=data["currency"],
            opened_at=data["opened_at"],
            respond_by=data["respond_by"],
            photos=[(f, f.name or "") for f in data["photos"]],
        )
        return self._detail(dispute, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add buyer photos to a dispute",
        request={"multipart/form-data": ClaimImagesAddSerializer},
        responses={201: ClaimImageSerializer(many=True)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="claim-images",
        parser_classes=[FileKeepingMultiPartParser, FormParser],
    )
    @idempotent
    def claim_images(self, request: Request, pk: str | None = None) -> Response:
        dispute = self.get_object()
        serializer = ClaimImagesAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        images = dispute_services.claim_images_add(
            dispute=dispute,
            actor=request.user,
            photos=[(f, f.name or "") for f in serializer.validated_data["photos"]],
        )
        return Response(ClaimImageSerializer(images, many=True).data, status=201)

    @extend_schema(
        summary="Write the merchant's statement",
        request=StatementSerializer,
        responses={200: DisputeDetailSerializer},
        examples=[OpenApiExample("Statement", value={"text": "Packing video shows it intact."})],
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def statement(self, request: Request, pk: str | None = None) -> Response:
        dispute = self.get_object()
        serializer = StatementSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dispute_services.merchant_statement_save(
            dispute=dispute, actor=request.user, text=serializer.validated_data["text"]
        )
        return self._detail(dispute)

    @extend_schema(
        summary="Decisions on a dispute (read-only)", responses=DecisionSerializer(many=True)
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def decisions(self, request: Request, pk: str | None = None) -> Response:
        dispute = self.get_object()
        return Response(DecisionSerializer(dispute.decisions.all(), many=True).data)

    @extend_schema(
        summary="Export an evidence pack (PDF report + ZIP), built by a worker",
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses={202: EvidencePackSerializer},
    )
    @action(detail=True, methods=["post"], url_path="evidence-packs", parser_classes=[JSONParser])
    @idempotent
    def evidence_packs(self, request: Request, pk: str | None = None) -> Response:
        dispute = self.get_object()
        pack = pack_services.evidence_pack_request(dispute=dispute, actor=request.user)
        return Response(
            EvidencePackSerializer(pack, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema_view(
    list=extend_schema(summary="List evidence packs (newest first)"),
    retrieve=extend_schema(summary="An evidence pack: progress, then its files"),
)
class EvidencePackViewSet(
    MerchantScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[EvidencePack],
):
    """Evidence packs of the merchant's disputes; poll one until ``status`` is ``ready``."""

    serializer_class = EvidencePackSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]
    model = EvidencePack

    def scoped_queryset(self) -> QuerySet[EvidencePack]:
        return pack_selectors.pack_list(user=self.request.user, merchant=self.merchant)

    def get_object(self) -> EvidencePack:
        return pack_selectors.access_pack_by_id(
            self.request.user, self.object_id, merchant=self.merchant
        )

    def _download(self, kind: str) -> FileResponse:
        pack = self.get_object()
        field = pack.pdf if kind == "pdf" else pack.archive
        if pack.status != EvidencePack.Status.READY or not field.name:
            raise Conflict("The evidence pack is not ready yet.", code="not_ready")
        response = FileResponse(
            default_storage.open(field.name, "rb"),
            as_attachment=True,
            filename=f"evidence-pack-{pack.dispute.external_id}-{pack.pk}.{kind}",
            content_type="application/pdf" if kind == "pdf" else "application/zip",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @extend_schema(
        summary="Download the PDF report",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def pdf(self, request: Request, pk: str | None = None) -> FileResponse:
        return self._download("pdf")

    @extend_schema(
        summary="Download the ZIP archive",
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path="zip", filter_backends=[])
    def zip(self, request: Request, pk: str | None = None) -> FileResponse:
        return self._download("zip")


@csrf_exempt  # token-authenticated API paths; no cookie session to protect
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under ``/api/``: the JSON error envelope, never an HTML page."""
    return JsonResponse(
        {"error": {"code": "not_found", "message": "No such API path."}}, status=404
    )
