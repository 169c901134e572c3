"""The OpenAPI description of the project's own service endpoints."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from tokens import errors
from tokens.schema import error_body

health = extend_schema(
    summary="Liveness with a database round trip",
    auth=[],
    responses={
        200: inline_serializer("Health", {"status": serializers.CharField()}),
        503: OpenApiResponse(
            response={
                **error_body(errors.SERVICE_UNAVAILABLE),
                "properties": {
                    "status": {"type": "string"},
                    "detail": {"type": "string", "enum": [errors.SERVICE_UNAVAILABLE]},
                },
            },
            description="The database cannot be reached; retry later.",
        ),
    },
)
