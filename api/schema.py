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


ERROR_RESPONSES = {
    "400": "Invalid input; `fields` names each bad field.",
    "401": "No token, or an invalid or revoked one.",
    "403": "The token may not do this.",
    "404": "No such object for this merchant.",
    "405": "The method is not offered on this path.",
    "406": "The `Accept` header asks for nothing this API answers in (it answers JSON).",
    "409": "Conflicts with the current state (e.g. an upload's offset, a key in use).",
    "415": "Unsupported content type.",
    "422": "An Idempotency-Key reused for a different request.",
    "429": "Rate limit reached; wait `Retry-After` seconds.",
}


def error_responses_hook(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Document the error envelope on every operation (drf-spectacular postprocessing)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "example": "validation_error"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": True},
                    "offset": {"type": "integer"},
                },
            }
        },
    }
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in {"get", "post", "put", "patch", "delete", "head"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(code, {"description": description, **ref})
    return result
