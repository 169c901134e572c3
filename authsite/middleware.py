"""JSON, never HTML, for error responses under /api/."""

import logging

from django.http import JsonResponse

from authsite.errors import DATABASE_UNAVAILABLE
from tokens.errors import SERVICE_UNAVAILABLE, code_for_status

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class JsonApiErrorsMiddleware:
    """Replace any non-JSON error page under /api/ with ``{"detail": "<CODE>"}``.

    Django answers some requests before a DRF view runs (no such URL, a bad Host
    header, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, an unhandled exception), with
    HTML, or a traceback page when DEBUG is on. Clients of the API get JSON whatever
    went wrong. This middleware must stay first in MIDDLEWARE to see all of them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse(
                {"detail": code_for_status(response.status_code)}, status=response.status_code
            )
        return response

    def process_exception(self, request, exception):
        if request.path.startswith(API_PREFIX) and isinstance(exception, DATABASE_UNAVAILABLE):
            logger.error("database unavailable: %s", exception.__class__.__name__)
            return JsonResponse({"detail": SERVICE_UNAVAILABLE}, status=503)
        return None
