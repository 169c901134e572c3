"""What every response under /api/ gets, whichever code produced it."""

import logging

from django.http import JsonResponse

from tokens.errors import SERVICE_UNAVAILABLE, DatabaseUnavailable, code_for_status
from tokens.exceptions import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

# The replaced page's headers that describe its body, not the exchange.
_BODY_HEADERS = {"content-type", "content-length"}


class ApiNoStoreMiddleware:
    """``Cache-Control: no-store`` on every response under /api/ (contract, Invariants).

    The API's answers are personal (the user, their sessions, tokens) and its errors
    too; no browser or proxy keeps any of them. Outermost in MIDDLEWARE, so it also sees
    the error bodies JsonApiErrorsMiddleware writes. Token responses keep their own
    ``Pragma: no-cache`` for HTTP/1.0 caches (tokens/views.py).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX):
            response["Cache-Control"] = "no-store"
        return response


class JsonApiErrorsMiddleware:
    """Replace any non-JSON error page under /api/ with ``{"detail": "<CODE>"}``.

    Django answers some requests before a DRF view runs (no such URL, a bad Host
    header, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, an unhandled exception), with
    HTML, or a traceback page when DEBUG is on. Clients of the API get JSON whatever
    went wrong. This middleware must stay first in MIDDLEWARE after ApiNoStoreMiddleware
    (which writes no bodies) to see all of them.
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
            return _json_error_like(response)
        return response

    def process_exception(self, request, exception):
        if request.path.startswith(API_PREFIX) and isinstance(exception, DATABASE_UNAVAILABLE):
            logger.error("database unavailable: %s", exception.__class__.__name__)
            return JsonResponse(
                {"detail": SERVICE_UNAVAILABLE},
                status=503,
                headers={"Retry-After": str(DatabaseUnavailable.wait)},
            )
        return None


def _json_error_like(page) -> JsonResponse:
    """The JSON error for ``page``, with the headers and cookies the rest of the stack
    gave it (nosniff, X-Frame-Options, Referrer-Policy, Vary, CORS...): only the body
    changes, not the security of the answer."""
    response = JsonResponse({"detail": code_for_status(page.status_code)}, status=page.status_code)
    for header, value in page.items():
        if header.lower() not in _BODY_HEADERS:
            response[header] = value
    response.cookies = page.cookies
    return response
