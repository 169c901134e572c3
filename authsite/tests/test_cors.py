"""CORS (django-cors-headers, this project's) for the frontends of CORS_ALLOWED_ORIGINS."""

import pytest

from tokens.tests.test_origin import FRONTEND, cors  # noqa: F401  (a fixture)


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
