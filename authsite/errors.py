"""Every error a client can reach is JSON with a stable code.

``exception_handler`` is DRF's EXCEPTION_HANDLER; the middleware in
``authsite.middleware`` covers what happens outside DRF (unknown URLs, Django's own
400/404/500 pages).
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
    SERVICE_UNAVAILABLE,
    AuthError,
    code_for_status,
)

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def database_unavailable_response() -> Response:
    return Response({"detail": SERVICE_UNAVAILABLE}, status=503, headers={"Retry-After": "5"})


def exception_handler(exc, context):
    if isinstance(exc, AuthError):
        response = Response({"detail": exc.code}, status=exc.status_code)
        if exc.clears_cookie:
            cookies.delete_refresh_cookie(response)
        return response
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.error("database unavailable: %s", exc.__class__.__name__)
        return database_unavailable_response()

    response = drf_exception_handler(exc, context)
    if response is None or isinstance(exc, exceptions.ValidationError):
        return response  # a real bug (the middleware answers 500) or DRF field errors
    if isinstance(exc, exceptions.AuthenticationFailed):
        code = ACCESS_TOKEN_INVALID
    elif isinstance(exc, exceptions.ParseError):
        code = MALFORMED_BODY
    else:
        code = code_for_status(response.status_code)
    response.data = {"detail": code}
    return response
