"""Settings pages of the tenancy (Settings → Time zone)."""

from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("time-zone/", views.time_zone_settings, name="time_zone"),
]
