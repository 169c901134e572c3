"""The refresh cookie: the only place that knows its name and attributes.

Setting and deleting go through the same attributes, so a browser always matches the
deleting Set-Cookie to the cookie it holds (dj-rest-auth PR #208 is what happens when
they drift apart).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE_PATH = "/api/auth"


def _set(response: HttpResponse, value: str, max_age: int) -> None:
    response.set_cookie(
        settings.REFRESH_TOKEN_COOKIE_NAME,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=settings.REFRESH_TOKEN_COOKIE_SECURE,
        httponly=True,
        samesite=settings.REFRESH_TOKEN_COOKIE_SAMESITE,
    )


def set_refresh_cookie(response: HttpResponse, token: str, max_age: int) -> None:
    _set(response, token, max_age)


def delete_refresh_cookie(response: HttpResponse) -> None:
    _set(response, "", 0)


def read_refresh_cookie(request: HttpRequest) -> str | None:
    return request.COOKIES.get(settings.REFRESH_TOKEN_COOKIE_NAME) or None
