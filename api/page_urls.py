"""Settings → Integrations pages."""

from django.urls import path

from api import pages

app_name = "integrations"

urlpatterns = [
    path("", pages.integrations, name="home"),
    path("tokens/", pages.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", pages.token_revoke, name="token_revoke"),
    path("webhooks/", pages.webhook_create, name="webhook_create"),
    path("webhooks/<int:endpoint_id>/delete/", pages.webhook_delete, name="webhook_delete"),
]
