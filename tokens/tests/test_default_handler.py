"""The app's errors under DRF's own exception handler: a project that sets no
EXCEPTION_HANDLER still gets ``{"detail": "<CODE>"}`` from every tokens endpoint, the
dead refresh cookie deleted, and ACCESS_TOKEN_INVALID from its own views."""

import pytest
from django.db import OperationalError

from tokens import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _drf_default_handler(settings):
    settings.REST_FRAMEWORK = {
        key: value for key, value in settings.REST_FRAMEWORK.items() if key != "EXCEPTION_HANDLER"
    }
    from rest_framework.settings import api_settings

    assert api_settings.EXCEPTION_HANDLER.__module__ == "rest_framework.views"


def test_a_refresh_after_a_password_change_is_a_coded_401_that_deletes_the_cookie(api, user, login):
    login()
    user.set_password("another password entirely")
    user.save()
    response = api.post("/api/auth/refresh")
    assert response.status_code == 401
    assert response.json() == {"detail": "REFRESH_TOKEN_INVALID"}
    morsel = response.cookies["refresh_token"]
    assert (morsel.value, morsel["max-age"]) == ("", 0)


def test_bad_credentials_are_coded(api, user):
    response = api.post(
        "/api/auth/login", {"email": "alice@example.com", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "LOGIN_BAD_CREDENTIALS"}


def test_drf_own_failures_in_tokens_views_are_coded(api):
    assert api.get("/api/auth/sessions").json() == {"detail": "NOT_AUTHENTICATED"}
    assert api.get("/api/auth/login").json() == {"detail": "METHOD_NOT_ALLOWED"}
    response = api.post("/api/auth/login", "{", content_type="application/json")
    assert (response.status_code, response.json()) == (400, {"detail": "MALFORMED_BODY"})


def test_over_the_rate_limit_is_rate_limited_with_retry_after(api, settings):
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_DEFAULT": "1/m"}
    api.post("/api/auth/refresh")
    response = api.post("/api/auth/refresh")
    assert response.status_code == 429
    assert response.json() == {"detail": "RATE_LIMITED"}
    assert int(response["Retry-After"]) > 0


def test_a_bad_bearer_token_on_the_projects_own_view_is_coded(api):
    for header in ("Bearer not.a.token", "Bearer three words here"):
        response = api.get("/api/users/me", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401
        assert response.json() == {"detail": "ACCESS_TOKEN_INVALID"}
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_lost_database_is_503_with_retry_after(api, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "refresh", down)
    api.cookies["refresh_token"] = "anything"
    response = api.post("/api/auth/refresh")
    assert response.status_code == 503
    assert response.json() == {"detail": "SERVICE_UNAVAILABLE"}
    assert response["Retry-After"] == "5"
