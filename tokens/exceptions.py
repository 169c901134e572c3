"""Errors as ``{"detail": "<CODE>"}``, whatever DRF's EXCEPTION_HANDLER is.

The app's own errors (``tokens.errors``) are DRF exceptions whose detail is their code,
so DRF's default handler already renders them. ``as_coded`` gives DRF's generic
failures (401, 404, 405, 429, a malformed body...) a code too, and turns a database
that cannot be reached into 503 SERVICE_UNAVAILABLE: the tokens views apply it to
every error they raise (``tokens.views.TokensView``). A project may also opt in for
its own views, ``REST_FRAMEWORK["EXCEPTION_HANDLER"] =
"tokens.exceptions.exception_handler"``; nothing requires it. What happens outside
DRF (unknown URLs, Django's own error pages) is the project's to answer.
"""

import logging

from django.db import InterfaceError, OperationalError
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tokens import cookies
from tokens.errors import (
    ACCESS_TOKEN_INVALID,
    MALFORMED_BODY,
    NOT_AUTHENTICATED,
    Coded,
    DatabaseUnavailable,
    RefreshCookieConflict,
    code_for_status,
)

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def as_coded(exc: Exception) -> Exception:
    """``exc`` with a code for its detail, or the exception to raise instead.

    Field errors (``ValidationError``) keep DRF's shape; anything that is neither a DRF
    exception nor a lost database is left alone (a real bug: a 500).
    """
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.error("database unavailable: %s", exc.__class__.__name__)
        return DatabaseUnavailable()
    if not isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Coded | exceptions.ValidationError):
        return exc
    if isinstance(exc, exceptions.NotAuthenticated):
        code = NOT_AUTHENTICATED
    elif isinstance(exc, exceptions.AuthenticationFailed):
        code = ACCESS_TOKEN_INVALID  # simplejwt's InvalidToken, a project's own class
    elif isinstance(exc, exceptions.ParseError):
        code = MALFORMED_BODY
    else:
        code = code_for_status(exc.status_code)
    # The same exception, so DRF keeps what it does by type (WWW-Authenticate on a
    # 401, Retry-After from a Throttled's wait).
    exc.detail = ErrorDetail(code, code=code)
    return exc


def finish(exc: Exception, response: Response | None, request, view) -> Response | None:
    """What an error's answer needs beyond its body: the refresh cookie deleted when it
    is dead (and the planted ones when two arrived), the DPoP nonce a proof lacked, and
    on a 401 the view's challenge
    (RFC 9110 section 15.5.2; DRF adds it to its own NotAuthenticated and
    AuthenticationFailed only)."""
    if response is None:
        return None
    if getattr(exc, "clears_cookie", False):
        cookies.delete_refresh_cookie(response)
    if isinstance(exc, RefreshCookieConflict) and request is not None:
        cookies.delete_other_refresh_cookies(response, request)
    if getattr(exc, "dpop_nonce", None):  # the nonce to sign with (RFC 9449 section 8)
        response["DPoP-Nonce"] = exc.dpop_nonce
    if response.status_code == 401 and "WWW-Authenticate" not in response and view is not None:
        challenge = view.get_authenticate_header(request) if request is not None else None
        if challenge:  # none for a view without authentication classes (refresh)
            response["WWW-Authenticate"] = challenge
    return response


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's default handler, with ``as_coded`` applied first: every DRF error of every
    view as ``{"detail": "<CODE>"}`` (field errors excepted), 503 for a lost database."""
    exc = as_coded(exc)
    response = drf_exception_handler(exc, context)
    return finish(exc, response, context.get("request"), context.get("view"))
