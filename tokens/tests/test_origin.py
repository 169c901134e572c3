"""CSRF defence of cookie-authenticated calls (refresh, logout by cookie), of login and
register (login CSRF), and CORS."""

import pytest

from tokens.errors import ORIGIN_NOT_ALLOWED
from tokens.models import RefreshToken
from tokens.settings import tokens_settings

FRONTEND = "https://app.example.com"


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [FRONTEND]


def refused(response) -> bool:
    return response.status_code == 403 and response.json() == {"detail": ORIGIN_NOT_ALLOWED}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_ORIGIN": "http://testserver.evil.example"},
        {"HTTP_ORIGIN": "https://testserver"},  # same host, other scheme: another origin
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": "https://evil.example", "HTTP_SEC_FETCH_SITE": "same-origin"},
    ],
)
def test_refresh_from_a_foreign_page_is_refused_and_the_cookie_survives(
    api, user, login, cors, headers
):
    login()
    assert refused(api.post("/api/auth/refresh", **headers))
    # Nothing was spent: the real client still refreshes with the same cookie.
    assert api.post("/api/auth/refresh").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, a mobile app
        {"HTTP_ORIGIN": "http://testserver"},
        {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_SEC_FETCH_SITE": "none"},  # typed in the address bar
        {"HTTP_ORIGIN": FRONTEND, "HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": FRONTEND.upper() + "/"},
    ],
)
def test_refresh_from_our_own_or_a_trusted_origin_passes(api, user, login, cors, headers):
    login()
    assert api.post("/api/auth/refresh", **headers).status_code == 200


@pytest.mark.django_db
def test_own_origin_follows_the_tls_proxy_header(api, user, login, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    login()
    https = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "testserver"}
    assert refused(api.post("/api/auth/refresh", HTTP_ORIGIN="http://testserver", **https))
    assert (
        api.post("/api/auth/refresh", HTTP_ORIGIN="https://testserver", **https).status_code == 200
    )


@pytest.mark.django_db
def test_logout_by_cookie_from_a_foreign_page_is_refused(api, user, login):
    login()
    assert refused(api.post("/api/auth/logout", HTTP_ORIGIN="https://evil.example"))
    assert RefreshToken.objects.live().count() == 1


@pytest.mark.django_db
def test_logout_with_a_bearer_token_is_not_origin_checked(api, user, login, bearer):
    # A foreign page cannot attach a bearer token (that needs CORS), so nothing to forge.
    response = login()
    out = api.post("/api/auth/logout", HTTP_ORIGIN="https://evil.example", **bearer(response))
    assert out.status_code == 200
    assert RefreshToken.objects.live().count() == 0


@pytest.mark.django_db
def test_logout_with_an_expired_bearer_falls_back_to_the_cookie_and_its_check(api, user, login):
    login()
    headers = {"HTTP_AUTHORIZATION": "Bearer not-a-jwt", "HTTP_ORIGIN": "https://evil.example"}
    assert refused(api.post("/api/auth/logout", **headers))


# Login CSRF: a foreign page auto-submitting a form (a CORS "simple" request) must not
# plant its own session in the victim's browser, nor create accounts in their name.

FOREIGN = [
    {"HTTP_ORIGIN": "https://evil.example"},
    {"HTTP_ORIGIN": "null"},
    {"HTTP_SEC_FETCH_SITE": "cross-site"},
]
TRUSTED = [
    {},  # curl, a mobile app
    {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"},
    {"HTTP_ORIGIN": FRONTEND, "HTTP_SEC_FETCH_SITE": "cross-site"},
]


def form_login(api, password: str, **headers):
    body = f"username=alice%40example.com&password={password.replace(' ', '+')}"
    return api.post(
        "/api/auth/login", body, content_type="application/x-www-form-urlencoded", **headers
    )


@pytest.mark.django_db
@pytest.mark.parametrize("headers", FOREIGN)
@pytest.mark.parametrize("password", ["correct horse battery staple", "wrong"])
def test_login_form_from_a_foreign_page_is_refused_before_any_password_check(
    api, user, cors, settings, password_checks, headers, password
):
    response = form_login(api, password, **headers)
    assert refused(response)
    assert tokens_settings.REFRESH_TOKEN_COOKIE_NAME not in response.cookies
    assert password_checks == []
    assert not RefreshToken.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("headers", FOREIGN)
def test_json_login_from_a_foreign_page_is_refused(
    api, user, cors, settings, password_checks, headers
):
    body = {"email": "alice@example.com", "password": "correct horse battery staple"}
    response = api.post("/api/auth/login", body, format="json", **headers)
    assert refused(response)
    assert tokens_settings.REFRESH_TOKEN_COOKIE_NAME not in response.cookies
    assert password_checks == []


@pytest.mark.django_db
@pytest.mark.parametrize("headers", TRUSTED)
def test_login_from_our_own_or_a_trusted_origin_or_no_browser_passes(
    api, user, cors, settings, headers
):
    response = form_login(api, "correct horse battery staple", **headers)
    assert response.status_code == 200, response.content
    assert tokens_settings.REFRESH_TOKEN_COOKIE_NAME in response.cookies


@pytest.mark.django_db
def test_refused_origins_do_not_spend_the_login_budget(api, user, settings):
    # A foreign page in the victim's browser shares the victim's IP: if its refused
    # requests counted, it could keep the victim from logging in.
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_LOGIN": "5/m"}
    for _ in range(10):
        assert refused(form_login(api, "wrong", HTTP_ORIGIN="https://evil.example"))
    assert form_login(api, "correct horse battery staple").status_code == 200
