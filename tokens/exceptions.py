"""DRF's EXCEPTION_HANDLER for a project using tokens: every error JSON with a stable code.

``{"detail": "<CODE>"}`` for the domain errors of ``tokens.errors`` (deleting the refresh
cookie when it is dead), DRF's own failures mapped to codes by status, and 503
SERVICE_UNAVAILABLE when the database cannot be reached. A project opts in with
``REST_FRAMEWORK["EXCEPTION_HANDLER"] = "tokens.exceptions.exception_handler"``. What
happens outside DRF (unknown URLs, Django's own error pages) is the project's to
answer; this project's ``authsite.middleware`` does.
"""

import logging

from django.db import InterfaceError, OperationalError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tokens import cookies
from tokens.errors import (
    ACCESS_TOKEN_INVALID,
    MALFORMED_BODY,
    NOT_AUTHENTICATED,
    SERVICE_UNAVAILABLE,
    AuthError,
    ClientCredentialsInvalid,
    RefreshCookieConflict,
    code_for_status,
)

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def database_unavailable_response() -> Response:
    return Response({"detail": SERVICE_UNAVAILABLE}, status=503, headers={"Retry-After": "5"})


def _challenge(response: Response, context: dict) -> None:
    """A 401 says how to authenticate (RFC 9110 section 15.5.2): the view's challenge,
    as DRF adds it to its own NotAuthenticated and AuthenticationFailed. None for a view
    without authentication classes (refresh: the cookie is no HTTP scheme)."""
    view, request = context.get("view"), context.get("request")
    challenge = view.get_authenticate_header(request) if view and request else None
    if challenge:
        response["WWW-Authenticate"] = challenge


def exception_handler(exc, context):
    if isinstance(exc, AuthError):
        response = Response({"detail": exc.code}, status=exc.status_code)
        if exc.clears_cookie:
            cookies.delete_refresh_cookie(response)
        if isinstance(exc, RefreshCookieConflict):
            cookies.delete_other_refresh_cookies(response, context["request"])
        if exc.status_code == 401:
            _challenge(response, context)
        return response
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.error("database unavailable: %s", exc.__class__.__name__)
        return database_unavailable_response()

    response = drf_exception_handler(exc, context)
    if response is None or isinstance(exc, exceptions.ValidationError):
        return response  # a real bug (the middleware answers 500) or DRF field errors
    if isinstance(exc, ClientCredentialsInvalid):
        code = NOT_AUTHENTICATED  # a service's credentials, not an access token
    elif isinstance(exc, exceptions.AuthenticationFailed):
        code = ACCESS_TOKEN_INVALID
    elif isinstance(exc, exceptions.ParseError):
        code = MALFORMED_BODY
    else:
        code = code_for_status(response.status_code)
    response.data = {"detail": code}
    return response
