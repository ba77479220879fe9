"""Dispute URLs."""

from django.urls import path

from disputes import views

app_name = "disputes"

urlpatterns = [
    path("", views.dispute_list, name="list"),
    path("new/", views.dispute_create, name="create"),
    path("queue/", views.review_queue, name="queue"),
    path("<int:dispute_id>/", views.dispute_detail, name="detail"),
    path("<int:dispute_id>/decide/", views.dispute_decide, name="decide"),
    path("<int:dispute_id>/photos/", views.claim_photos_add, name="photos_add"),
    path("<int:dispute_id>/notes/", views.internal_note_add, name="note_add"),
    path("<int:dispute_id>/statement/", views.statement_save, name="statement"),
    path("<int:dispute_id>/evidence/", views.evidence_attach, name="evidence_attach"),
    path("claims/<int:claim_image_id>/retry/", views.claim_image_retry, name="claim_retry"),
    path("files/claims/<int:claim_image_id>/original", views.claim_image_file, name="claim_file"),
    path(
        "files/claims/<int:claim_image_id>/<str:kind>",
        views.claim_image_derived,
        name="claim_derived",
    ),
]
