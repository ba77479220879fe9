"""``/api/v1/`` and its OpenAPI schema and docs (served with offline assets)."""

from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from api import views

app_name = "api"

router = DefaultRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("photos", views.ReferencePhotoViewSet, basename="photo")
router.register("videos", views.PackingVideoViewSet, basename="video")
router.register("uploads", views.ChunkedUploadViewSet, basename="upload")
router.register("disputes", views.DisputeViewSet, basename="dispute")
router.register("evidence-packs", views.EvidencePackViewSet, basename="evidence-pack")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("docs/redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^[\s\S]*$", views.not_found),  # [\s\S]: paths may hold a newline
]
