"""CSRF defence for requests that the refresh cookie alone authenticates, and for the
requests that set it or make an account (login CSRF: login, register).

A browser attaches the cookie to a request wherever the page that sends it came from
(within SameSite's limits), so the cookie proves nothing about intent. Browsers also say
where the request comes from: ``Origin`` on every POST, ``Sec-Fetch-Site`` on every
request of a modern browser. A request from our own origin or a configured frontend
passes; a foreign one is refused. A request with neither header is not from a browser
(curl, a mobile app): nothing to forge there, and SameSite already keeps browsers'
cross-site requests from carrying the cookie.
"""

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tokens.errors import OriginNotAllowed

CROSS_SITE = "cross-site"


def _own_origin(request: Request) -> str:
    # request.scheme honours SECURE_PROXY_SSL_HEADER; get_host() is validated
    # against ALLOWED_HOSTS.
    return f"{request.scheme}://{request.get_host()}".lower()


def is_trusted_origin(request: Request, origin: str) -> bool:
    """Whether ``origin`` is this site's own or one of CORS_ALLOWED_ORIGINS."""
    origin = origin.strip().lower().rstrip("/")
    trusted = {
        _own_origin(request),
        # django-cors-headers' setting, when the project uses it: one list of frontends.
        *(o.lower().rstrip("/") for o in getattr(settings, "CORS_ALLOWED_ORIGINS", [])),
    }
    return origin in trusted


def check_origin(request: Request) -> None:
    """Raise OriginNotAllowed unless the request may have been sent by a trusted page."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        # "null" (a sandboxed frame, a file: page, some redirects) is never trusted.
        if not is_trusted_origin(request, origin):
            raise OriginNotAllowed()
        return
    if request.META.get("HTTP_SEC_FETCH_SITE", "").strip().lower() == CROSS_SITE:
        raise OriginNotAllowed()


class RequestOrigin(BasePermission):
    """DRF permission: the Origin check on every request (login, register).

    A foreign page can auto-submit a form there (a CORS "simple" request) and plant
    the attacker's session in the victim's browser. DRF checks permissions before
    the view reads the body, so a refused request checks no password.
    """

    def has_permission(self, request: Request, view) -> bool:
        check_origin(request)
        return True


class CookieRequestOrigin(RequestOrigin):
    """DRF permission: the Origin check, for requests not authenticated by a bearer token.

    A bearer token cannot be attached by a foreign page (it would need CORS, which
    only CORS_ALLOWED_ORIGINS get), so only cookie-authenticated requests are checked.
    """

    def has_permission(self, request: Request, view) -> bool:
        return request.auth is not None or super().has_permission(request, view)
