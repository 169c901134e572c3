"""The bearer scheme as RFC 6750 and RFC 9110 say it: any case of the scheme's name, and
a challenge that tells a refused token (``error="invalid_token"``) from a missing one.
authsite/tests/interop/test_clients.py checks the same with openid-client."""

import datetime as dt

import pytest
import time_machine

from tokens.errors import ACCESS_TOKEN_INVALID, NOT_AUTHENTICATED

pytestmark = pytest.mark.django_db

CHALLENGE = 'Bearer realm="api"'
REFUSED = 'Bearer realm="api", error="invalid_token"'


@pytest.fixture
def access(user, login) -> str:
    return login().json()["access_token"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_is_case_insensitive(api, access, scheme):
    response = api.get("/api/auth/sessions", HTTP_AUTHORIZATION=f"{scheme} {access}")
    assert response.status_code == 200, response.content


def test_another_scheme_is_no_credential(api, access):
    response = api.get("/api/auth/sessions", HTTP_AUTHORIZATION=f"Token {access}")
    assert response.status_code == 401
    assert response.json() == {"detail": NOT_AUTHENTICATED}
    assert response["WWW-Authenticate"] == CHALLENGE


def test_no_credentials_get_the_challenge_without_an_error(api):
    response = api.get("/api/auth/sessions")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE


@pytest.mark.parametrize("how", ["tampered", "expired", "revoked", "two values", "empty"])
def test_a_presented_token_that_cannot_be_used_is_invalid_token(api, access, how):
    token, header = access, None
    if how == "tampered":
        token = access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    elif how == "revoked":
        api.post("/api/auth/logout", HTTP_AUTHORIZATION=f"Bearer {access}")
    elif how == "two values":
        header = f"bearer {access} {access}"
    elif how == "empty":
        header = "Bearer"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2 if how == "expired" else 0)
    with time_machine.travel(later, tick=False):
        response = api.get("/api/auth/sessions", HTTP_AUTHORIZATION=header or f"bearer {token}")
    assert response.status_code == 401
    assert response.json() == {"detail": ACCESS_TOKEN_INVALID}
    assert response["WWW-Authenticate"] == REFUSED


def test_logout_with_a_refused_token_and_no_cookie_says_so_too(api, access):
    """Logout takes an expired token as none (it must still delete the cookie); with
    no cookie either, its 401 names the refused token like any other."""
    api.post("/api/auth/logout", HTTP_AUTHORIZATION=f"Bearer {access}")
    api.cookies.clear()
    response = api.post("/api/auth/logout", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == REFUSED
    bare = api.post("/api/auth/logout")
    assert bare.status_code == 401
    assert bare["WWW-Authenticate"] == CHALLENGE
