"""CSRF defence of cookie-authenticated calls (refresh, logout by cookie), and CORS."""

import pytest

from tokens.errors import ORIGIN_NOT_ALLOWED
from tokens.models import RefreshToken

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


@pytest.mark.django_db
def test_cors_allows_credentials_for_configured_origins_only(api, cors):
    preflight = {
        "HTTP_ORIGIN": FRONTEND,
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type",
    }
    allowed = api.options("/api/auth/refresh", **preflight)
    assert allowed["Access-Control-Allow-Origin"] == FRONTEND
    assert allowed["Access-Control-Allow-Credentials"] == "true"

    foreign = api.options(
        "/api/auth/refresh", **{**preflight, "HTTP_ORIGIN": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in foreign


@pytest.mark.django_db
def test_cors_headers_only_under_api(client, cors):
    response = client.get("/admin/login/", HTTP_ORIGIN=FRONTEND)
    assert "Access-Control-Allow-Origin" not in response
