"""Nothing personal is cached: every response under /api/ says Cache-Control: no-store."""

import uuid

import pytest

from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an even longer passphrase"


def _logged_in(api, login, bearer) -> dict:
    return bearer(login())


# name -> a request that reaches that outcome; each gets a fresh client and a user.
CASES = {
    "register 201": lambda api, login, bearer: api.post(
        "/api/auth/register", {"email": "new@example.com", "password": PASSWORD}, format="json"
    ),
    "register 400": lambda api, login, bearer: api.post(
        "/api/auth/register", {"email": "alice@example.com", "password": PASSWORD}, format="json"
    ),
    "login 200": lambda api, login, bearer: login(),
    "login 400": lambda api, login, bearer: api.post(
        "/api/auth/login", {"email": "alice@example.com", "password": "wrong"}, format="json"
    ),
    "refresh 200": lambda api, login, bearer: (login(), api.post("/api/auth/refresh"))[1],
    "refresh 401": lambda api, login, bearer: api.post("/api/auth/refresh"),
    "logout 200": lambda api, login, bearer: (login(), api.post("/api/auth/logout"))[1],
    "logout 401": lambda api, login, bearer: api.post("/api/auth/logout"),
    "logout-all 200": lambda api, login, bearer: api.post(
        "/api/auth/logout-all", **_logged_in(api, login, bearer)
    ),
    "logout-all 401": lambda api, login, bearer: api.post("/api/auth/logout-all"),
    "sessions 200": lambda api, login, bearer: api.get(
        "/api/auth/sessions", **_logged_in(api, login, bearer)
    ),
    "sessions 401": lambda api, login, bearer: api.get("/api/auth/sessions"),
    "session delete 404": lambda api, login, bearer: api.delete(
        f"/api/auth/sessions/{uuid.uuid4()}", **_logged_in(api, login, bearer)
    ),
    "change-password 200": lambda api, login, bearer: api.post(
        "/api/auth/change-password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
        **_logged_in(api, login, bearer),
    ),
    "change-password 400": lambda api, login, bearer: api.post(
        "/api/auth/change-password",
        {"current_password": "wrong", "new_password": NEW_PASSWORD},
        format="json",
        **_logged_in(api, login, bearer),
    ),
    "me 200": lambda api, login, bearer: api.get("/api/users/me", **_logged_in(api, login, bearer)),
    "me 401": lambda api, login, bearer: api.get("/api/users/me"),
    "health 200": lambda api, login, bearer: api.get("/api/health"),
    "schema 200": lambda api, login, bearer: api.get("/api/schema/"),
    "docs 200": lambda api, login, bearer: api.get("/api/docs/"),
    "unknown 404": lambda api, login, bearer: api.get("/api/nope"),
    "wrong method 405": lambda api, login, bearer: api.get("/api/auth/login"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_api_response_is_no_store(api, user, login, bearer, case):
    response = CASES[case](api, login, bearer)
    expected = int(case.rsplit(" ", 1)[1])
    assert response.status_code == expected, response.content
    assert response["Cache-Control"] == "no-store"


def test_a_session_delete_204_is_no_store(api, user, login, bearer):
    headers = bearer(login())
    session_id = api.get("/api/auth/sessions", **headers).json()[0]["id"]
    response = api.delete(f"/api/auth/sessions/{session_id}", **headers)
    assert response.status_code == 204
    assert response["Cache-Control"] == "no-store"


def test_token_responses_keep_pragma_no_cache(api, user, login):
    response = login()
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_pages_outside_the_api_keep_their_own_caching(client):
    assert client.get("/")["Cache-Control"] == "no-cache"
