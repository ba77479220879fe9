"""The integration API: tokens, the REST endpoints, chunked uploads and webhooks."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "Integration API"

    def ready(self) -> None:
        from api import receivers, schema  # noqa: F401 - webhook receivers, OpenAPI auth
