"""Evidence packs: the PDF report and ZIP a merchant sends to a platform or the police."""

from django.apps import AppConfig


class PacksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "packs"
    verbose_name = "Evidence packs"

    def ready(self) -> None:
        from packs import checks  # noqa: F401 - registers the PDF rendering check
