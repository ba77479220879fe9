"""Evidence library URLs."""

from django.urls import path

from evidence import views

app_name = "evidence"

urlpatterns = [
    path("", views.home, name="home"),
    path("merchant/", views.merchant_switch, name="merchant_switch"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:product_id>/", views.product_detail, name="product_detail"),
    path("photos/status/", views.photo_status, name="photo_status"),
    path("videos/", views.video_list, name="video_list"),
    path("videos/<int:video_id>/", views.video_detail, name="video_detail"),
    path("files/photos/<int:photo_id>/original", views.photo_file, name="photo_file"),
    path("files/photos/<int:photo_id>/thumbnail", views.photo_thumbnail, name="photo_thumbnail"),
    path("files/videos/<int:video_id>/original", views.video_file, name="video_file"),
    path("files/keyframes/<int:keyframe_id>", views.keyframe_file, name="keyframe_file"),
]
