"""One cookie is the cookie: with the refresh cookie's name twice, the first one counts.

Browsers send the most specific path first, so a cookie planted on Path=/ or on a parent
domain comes after ours; Django's request.COOKIES keeps the last one.
"""

import pytest
from rest_framework.test import APIClient

from tokens.models import RefreshToken

pytestmark = pytest.mark.django_db

PLANTED = "planted-by-a-sibling-subdomain"


def our_token(login) -> str:
    return login().cookies["refresh_token"].value


def raw(cookie_header: str) -> dict:
    return {"HTTP_COOKIE": cookie_header}


def test_refresh_uses_the_first_of_two_cookies(user, login):
    ours = our_token(login)
    response = APIClient().post(
        "/api/auth/refresh", **raw(f"refresh_token={ours}; refresh_token={PLANTED}")
    )
    assert response.status_code == 200, response.content
    assert response.cookies["refresh_token"].value not in ("", ours, PLANTED)


def test_a_planted_cookie_first_is_what_is_read(user, login):
    ours = our_token(login)
    response = APIClient().post(
        "/api/auth/refresh", **raw(f"refresh_token={PLANTED}; refresh_token={ours}")
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "REFRESH_TOKEN_INVALID"}


def test_cookie_only_logout_uses_the_first_of_two_cookies(user, login):
    ours = our_token(login)
    response = APIClient().post(
        "/api/auth/logout", **raw(f"other=1; refresh_token={ours}; refresh_token={PLANTED}")
    )
    assert response.status_code == 200, response.content
    assert RefreshToken.objects.get().revoked_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "refresh_token={ours}",
        " refresh_token = {ours} ;",
        'refresh_token="{ours}"; refresh_token=x',
        "a=b; refresh_token={ours}; refresh_token",
        "broken; refresh_token={ours}; =; refresh_token={planted}",
    ],
)
def test_cookie_headers_are_read_as_django_reads_each_pair(user, login, header):
    ours = our_token(login)
    response = APIClient().post(
        "/api/auth/refresh", **raw(header.format(ours=ours, planted=PLANTED))
    )
    assert response.status_code == 200, (header, response.content)


@pytest.mark.parametrize("header", ["", "refresh_token=", "other=1", "refresh_token; a=b"])
def test_no_usable_first_cookie_is_missing(header):
    response = APIClient().post("/api/auth/refresh", **raw(header))
    assert response.status_code == 401
    assert response.json() == {"detail": "REFRESH_TOKEN_MISSING"}
