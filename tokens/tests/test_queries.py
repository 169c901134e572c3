"""Queries per operation: SQL statements that read or write data.

Transaction control (BEGIN, SAVEPOINT, RELEASE, COMMIT) is not counted: it is free of
data access and differs between the test transaction and production.
"""

import base64
import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


@contextmanager
def data_queries():
    with CaptureQueriesContext(connection) as captured:
        statements: list[str] = []
        yield statements
    statements.extend(q["sql"] for q in captured.captured_queries if not CONTROL.match(q["sql"]))


def test_authenticated_get_is_one_query(api, user, login, bearer):
    headers = bearer(login())
    with data_queries() as statements:
        assert api.get("/api/users/me", **headers).status_code == 200
    assert len(statements) == 1, statements
    assert "JOIN" in statements[0].upper()  # session and user together


def test_rotating_refresh_is_one_update(api, user, login):
    login()
    with data_queries() as statements:
        assert api.post("/api/auth/refresh").status_code == 200
    # The fast path: one UPDATE ... RETURNING in autocommit (no BEGIN/COMMIT either),
    # the session's liveness, generation and user checked in its WHERE.
    assert len(statements) == 1, statements
    (update,) = statements
    assert update.upper().startswith("UPDATE")
    assert "RETURNING" in update.upper()


def test_rotating_refresh_opens_no_transaction(api, user, login):
    login()
    with CaptureQueriesContext(connection) as captured:
        assert api.post("/api/auth/refresh").status_code == 200
    assert not [q for q in captured.captured_queries if CONTROL.match(q["sql"])]


def test_refresh_inside_the_reuse_interval_is_two_queries(api, user, login):
    first = login().cookies["refresh_token"].value
    api.post("/api/auth/refresh")
    api.cookies["refresh_token"] = first
    with data_queries() as statements:
        assert api.post("/api/auth/refresh").status_code == 200
    # the fast path's UPDATE, which matches nothing; the locked read that decides
    assert len(statements) == 2, statements
    if connection.vendor == "postgresql":
        assert 'FOR UPDATE OF "tokens_refreshtoken"' in statements[1]


def test_replay_revocation_is_one_update_after_the_locked_read(api, user, login):
    first = login().cookies["refresh_token"].value
    api.post("/api/auth/refresh")
    api.post("/api/auth/refresh")
    api.cookies["refresh_token"] = first
    with data_queries() as statements:
        assert api.post("/api/auth/refresh").status_code == 401
    assert len(statements) == 3, statements
    assert statements[2].upper().startswith("UPDATE")


def test_login_queries(api, user):
    with data_queries() as statements:
        response = api.post(
            "/api/auth/login", {"email": user.get_username(), "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200
    # the user by email; the insert, which also counts the user's other live sessions
    # for the cap; Django's last_login (user_logged_in)
    assert len(statements) == 3, statements
    select, insert, last_login = (s.upper() for s in statements)
    assert select.startswith("SELECT")
    assert insert.startswith("INSERT") and "RETURNING (SELECT COUNT(*)" in insert
    assert last_login.startswith("UPDATE") and "LAST_LOGIN" in last_login


def test_login_at_the_session_cap_adds_one_eviction_update(api, user, settings, login):
    settings.SESSIONS_PER_USER_LIMIT = 2
    login(client=APIClient())
    login(client=APIClient())
    with data_queries() as statements:
        login()
    assert len(statements) == 4, statements
    assert statements[2].upper().startswith("UPDATE")  # the eviction, after the insert


def test_logout_by_cookie_is_one_update(api, user, login):
    login()
    with data_queries() as statements:
        assert api.post("/api/auth/logout").status_code == 200
    assert len(statements) == 1, statements


def test_logout_all_is_auth_plus_one_update(api, user, login, bearer):
    for _ in range(5):
        login(client=APIClient())
    headers = bearer(login())
    with data_queries() as statements:
        assert api.post("/api/auth/logout-all", **headers).json()["revoked"] == 6
    assert len(statements) == 2, statements


def test_sessions_list_is_two_queries_whatever_the_count(api, user, login, bearer):
    for _ in range(10):
        login(client=APIClient())
    headers = bearer(login())
    with data_queries() as statements:
        assert len(api.get("/api/auth/sessions", **headers).json()) == 11
    assert len(statements) == 2, statements


def test_revoke_one_session_is_auth_plus_one_update(api, user, login, bearer):
    from rest_framework_simplejwt.tokens import AccessToken

    other = login(client=APIClient())
    sid = AccessToken(other.json()["access_token"])["sid"]
    headers = bearer(login())
    with data_queries() as statements:
        assert api.delete(f"/api/auth/sessions/{sid}", **headers).status_code == 204
    assert len(statements) == 2, statements


@pytest.mark.project
def test_change_password_queries(api, user, login, bearer):
    login(client=APIClient())
    headers = bearer(login())
    with data_queries() as statements:
        response = api.post(
            "/api/auth/change-password",
            {"current_password": PASSWORD, "new_password": "another fine passphrase"},
            format="json",
            **headers,
        )
        assert response.status_code == 200
    # auth; bind the caller's session to the new password; revoke the others; the
    # password update; its receiver's revoke of sessions of older passwords (none left)
    assert len(statements) == 5, statements


@pytest.mark.project
def test_health_is_one_query(api, db):
    with data_queries() as statements:
        assert api.get("/api/health").json() == {"status": "ok"}
    assert len(statements) == 1


def test_introspection_is_one_query(api, user, login, settings):
    settings.INTROSPECTION_CLIENTS = {"billing": "b" * 40}
    access = login().json()["access_token"]
    service = APIClient(
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"billing:" + b"b" * 40).decode()
    )
    with data_queries() as statements:
        response = service.post("/api/auth/introspect", {"token": access}, format="json")
        assert response.json()["active"] is True
    # the user joined to the live session, as for any authenticated request
    assert len(statements) == 1, statements
    assert "JOIN" in statements[0].upper()
