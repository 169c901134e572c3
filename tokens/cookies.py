"""The refresh cookie: the only place that knows its name and attributes.

Setting and deleting go through the same attributes, so a browser always matches the
deleting Set-Cookie to the cookie it holds (dj-rest-auth PR #208 is what happens when
they drift apart).
"""

from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie

from tokens.settings import tokens_settings

COOKIE_PATH = "/api/auth"


def _set(response: HttpResponse, value: str, max_age: int) -> None:
    response.set_cookie(
        tokens_settings.REFRESH_TOKEN_COOKIE_NAME,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=tokens_settings.REFRESH_TOKEN_COOKIE_SECURE,
        httponly=True,
        samesite=tokens_settings.REFRESH_TOKEN_COOKIE_SAMESITE,
    )


def set_refresh_cookie(response: HttpResponse, token: str, max_age: int) -> None:
    _set(response, token, max_age)


def delete_refresh_cookie(response: HttpResponse) -> None:
    _set(response, "", 0)


def read_refresh_cookie(request: HttpRequest) -> str | None:
    """The FIRST refresh cookie of the request's Cookie header, or None.

    A cookie of the same name planted on a wider path (``Path=/``) or a parent domain
    comes after ours, since browsers send the most specific path first (RFC 6265, 5.4);
    ``request.COOKIES`` keeps the last one, so it would win. Each pair is read exactly as
    Django reads it (split on ";", then ``parse_cookie``), only the first one counts.
    """
    name = tokens_settings.REFRESH_TOKEN_COOKIE_NAME
    for pair in request.META.get("HTTP_COOKIE", "").split(";"):
        cookie = parse_cookie(pair)
        if name in cookie:
            return cookie[name] or None
    return None
