"""OpenAPI description of the token authentication (drf-spectacular extension)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A merchant API token: `Authorization: Bearer rg_…`.",
        }


def _choices(path: str) -> Any:
    from django.utils.module_loading import import_string

    module, _, attr = path.rpartition(".")
    return import_string(module).__dict__[attr].choices


# Named enums for the schema (several models have a field called "status").
DISPUTE_STATUS = _choices("disputes.models.Dispute.Status")
PHOTO_STATUS = _choices("evidence.models.ReferencePhoto.Status")
VIDEO_STATUS = _choices("evidence.models.PackingVideo.Status")
ANALYSIS_STATUS = _choices("disputes.models.ClaimImage.Status")
