"""Evidence-pack URLs."""

from django.urls import path

from packs import views

app_name = "packs"

urlpatterns = [
    path("for/<int:dispute_id>/", views.pack_request, name="request"),
    path("<int:pack_id>/", views.pack_status, name="status"),
    path("<int:pack_id>/download/<str:kind>", views.pack_download, name="download"),
]
