"""One cookie is the cookie: two refresh cookies of different values are refused.

Browsers send the cookie with the longer path first, so a cookie planted on
``Path=/api/auth/refresh`` comes before ours and one on ``Path=/`` or a parent domain
after it: no position can be trusted. The refusal revokes and rotates nothing, keeps
our cookie and deletes the others wherever they can live.
"""

import logging

import pytest
from rest_framework.test import APIClient

from tokens.models import RefreshToken

pytestmark = pytest.mark.django_db

PLANTED = "planted-by-a-sibling-subdomain"


def our_token(login, **extra) -> str:
    return login(**extra).cookies["refresh_token"].value


def raw(cookie_header: str, host: str = "testserver") -> dict:
    return {"HTTP_COOKIE": cookie_header, "HTTP_HOST": host}


def set_cookies(response) -> list[str]:
    """The response's Set-Cookie lines for the refresh cookie, as sent."""
    return [
        morsel.OutputString()
        for morsel in response.cookies.values()
        if morsel.key == "refresh_token"
    ]


def generations() -> dict:
    return dict(RefreshToken.objects.values_list("pk", "generation"))


def live_sessions() -> int:
    return RefreshToken.objects.live().count()


def assert_refused_and_nothing_changed(response, before: dict) -> None:
    assert response.status_code == 401, response.content
    assert response.json() == {"detail": "REFRESH_TOKEN_INVALID"}
    assert generations() == before  # nothing rotated
    assert RefreshToken.objects.filter(revoked_at__isnull=False).count() == 0


@pytest.fixture
def attacker_token(make_user, login):
    """A live refresh token of the attacker's own account: what a login CSRF plants."""
    make_user("mallory@example.com")
    return our_token(login, email="mallory@example.com", client=APIClient())


@pytest.mark.parametrize("planted_first", [True, False])
def test_refresh_refuses_two_different_cookies(user, login, attacker_token, planted_first):
    ours = our_token(login)
    before = generations()
    pair = [f"refresh_token={attacker_token}", f"refresh_token={ours}"]
    header = "; ".join(pair if planted_first else reversed(pair))
    response = APIClient().post("/api/auth/refresh", **raw(header))
    assert_refused_and_nothing_changed(response, before)
    # Neither session rotated: both cookies still work alone.
    assert APIClient().post("/api/auth/refresh", **raw(f"refresh_token={ours}")).status_code == 200
    alone = APIClient().post("/api/auth/refresh", **raw(f"refresh_token={attacker_token}"))
    assert alone.status_code == 200


def test_the_refusal_keeps_ours_and_deletes_the_others(user, login, settings):
    settings.ALLOWED_HOSTS = ["testserver", "auth.example.com"]
    ours = our_token(login)
    response = APIClient().post(
        "/api/auth/refresh",
        **raw(f"refresh_token={PLANTED}; refresh_token={ours}", host="auth.example.com"),
    )
    assert response.status_code == 401
    lines = set_cookies(response)
    places = set()
    for line in lines:
        attributes = dict(
            part.strip().partition("=")[::2] for part in line.split(";") if "=" in part
        )
        assert attributes["refresh_token"] == '""' and attributes["Max-Age"] == "0", line
        assert "HttpOnly" in line and "SameSite=Lax" in line, line
        places.add((attributes.get("Domain"), attributes["Path"]))
    paths = {"/", "/api", "/api/", "/api/auth", "/api/auth/", "/api/auth/refresh"}
    # Every place a cookie sent to /api/auth/refresh can live, but ours (host-only,
    # Path=/api/auth): deleting ours would leave only the planted one.
    expected = {(None, path) for path in paths - {"/api/auth"}}
    expected |= {("example.com", path) for path in paths}
    assert places == expected
    assert len(lines) == len(expected)


def test_the_refusal_is_a_security_event(user, login, caplog):
    ours = our_token(login)
    with caplog.at_level(logging.WARNING, logger="security"):
        APIClient().post(
            "/api/auth/refresh", **raw(f"refresh_token={PLANTED}; refresh_token={ours}")
        )
    [record] = [r for r in caplog.records if getattr(r, "event", "") == "refresh_cookie_conflict"]
    assert record.levelname == "WARNING" and record.ip_address == "127.0.0.1"
    assert ours not in record.getMessage()


def test_cookie_only_logout_refuses_two_different_cookies(user, login):
    ours = our_token(login)
    before = generations()
    response = APIClient().post(
        "/api/auth/logout", **raw(f"other=1; refresh_token={ours}; refresh_token={PLANTED}")
    )
    assert_refused_and_nothing_changed(response, before)
    assert live_sessions() == 1
    assert not any("Path=/api/auth;" in line for line in set_cookies(response))


def test_a_bearer_logout_ignores_two_different_cookies(user, login, bearer, attacker_token):
    response = login()
    ours = response.cookies["refresh_token"].value
    out = APIClient().post(
        "/api/auth/logout",
        **raw(f"refresh_token={attacker_token}; refresh_token={ours}"),
        **bearer(response),
    )
    assert out.status_code == 200, out.content
    # The access token's session ended; the attacker's (whose cookie came first) did not.
    assert RefreshToken.objects.get(user=user).revoked_at is not None
    assert RefreshToken.objects.exclude(user=user).get().revoked_at is None


@pytest.mark.parametrize(
    "header",
    [
        "refresh_token={ours}",
        " refresh_token = {ours} ;",
        "refresh_token={ours}; refresh_token={ours}",  # the same value twice is one cookie
        'refresh_token="{ours}"',
        "a=b; refresh_token={ours}; refresh_token",
        "broken; refresh_token={ours}; =; other={planted}",
    ],
)
def test_cookie_headers_are_read_as_django_reads_each_pair(user, login, header):
    ours = our_token(login)
    response = APIClient().post(
        "/api/auth/refresh", **raw(header.format(ours=ours, planted=PLANTED))
    )
    assert response.status_code == 200, (header, response.content)


@pytest.mark.parametrize(
    "header",
    [
        'refresh_token="{ours}"; refresh_token=x',
        "broken; refresh_token={ours}; =; refresh_token={planted}",
        "refresh_token=; refresh_token={ours}",  # an empty one is a value too
    ],
)
def test_any_two_different_values_are_refused(user, login, header):
    ours = our_token(login)
    before = generations()
    response = APIClient().post(
        "/api/auth/refresh", **raw(header.format(ours=ours, planted=PLANTED))
    )
    assert_refused_and_nothing_changed(response, before)


@pytest.mark.parametrize("header", ["", "refresh_token=", "other=1", "refresh_token; a=b"])
def test_no_usable_cookie_is_missing(header):
    response = APIClient().post("/api/auth/refresh", **raw(header))
    assert response.status_code == 401
    assert response.json() == {"detail": "REFRESH_TOKEN_MISSING"}
