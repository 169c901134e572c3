"""The app's DRF permissions: where a request may come from, and how recent the
caller's password proof must be.

**Origin** (``RequestOrigin``, ``CookieRequestOrigin``): CSRF defence for requests that
the refresh cookie alone authenticates, and for the requests that set it or make an
account (login CSRF: login, register). A browser attaches the cookie to a request
wherever the page that sends it came from (within SameSite's limits), so the cookie
proves nothing about intent. Browsers also say where the request comes from: ``Origin``
on every POST, ``Sec-Fetch-Site`` on every request of a modern browser. A request from
our own origin or a configured frontend passes; a foreign one is refused. A request with
neither header is not from a browser (curl, a mobile app): nothing to forge there, and
SameSite already keeps browsers' cross-site requests from carrying the cookie.

**Step-up** (``RecentLogin``, ``require_recent_login``): a stolen access token lives up
to its lifetime; with ``RecentLogin`` on a destructive view it cannot also end the
owner's other sessions (and so lock them out of the account) unless the thief knows the
password too. The proof is the access token's ``auth_time`` claim, which a refresh keeps
and only a login, ``reauthenticate`` or a password change renews.
"""

from django.conf import settings
from django.utils import timezone
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tokens.access import AUTH_TIME_CLAIM
from tokens.errors import OriginNotAllowed, ReauthenticationRequired
from tokens.settings import tokens_settings

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


class RecentLogin(BasePermission):
    """Allow an authenticated caller whose password proof is at most ``max_age`` seconds old.

    ``max_age`` defaults to REAUTHENTICATION_MAX_AGE (read at each request); 0 turns the
    check off. Use the class or an instance: ``permission_classes = [IsAuthenticated,
    RecentLogin(max_age=300)]``. Refuses with 403 REAUTHENTICATION_REQUIRED; the client
    answers with ``POST /api/auth/reauthenticate`` and retries.
    """

    def __init__(self, max_age: int | None = None) -> None:
        self.max_age = max_age

    def __call__(self) -> "RecentLogin":
        # DRF instantiates each entry of permission_classes; an instance stands for itself.
        return self

    def has_permission(self, request, view) -> bool:
        if request.auth is None:
            return False  # DRF answers 401: not authenticated
        require_recent_login(request, max_age=self.max_age)
        return True


def require_recent_login(request, *, max_age: int | None = None) -> None:
    """Raise REAUTHENTICATION_REQUIRED unless the caller's access token proves the
    password within ``max_age`` seconds (default REAUTHENTICATION_MAX_AGE; 0: no check).

    For a view that needs the proof for some requests only (RecentLogin is for all).
    """
    if max_age is None:
        max_age = tokens_settings.REAUTHENTICATION_MAX_AGE
    if max_age <= 0:
        return
    claims = request.auth or {}
    if not is_recent(claims.get(AUTH_TIME_CLAIM), max_age):
        raise ReauthenticationRequired()


def is_recent(auth_time: object, max_age: int) -> bool:
    """Whether ``auth_time`` (a NumericDate) lies within the last ``max_age`` seconds."""
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
        return False  # a token without the claim (issued before it existed) is not recent
    age = timezone.now().timestamp() - auth_time
    # A proof from the future (clock skew between instances) counts as just made.
    return age <= max_age
