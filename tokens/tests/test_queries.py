"""Queries per operation: SQL statements that read or write data.

Transaction control (BEGIN, SAVEPOINT, RELEASE, COMMIT) is not counted: it is free of
data access and differs between the test transaction and production.

The security emails are queued as production queues them: the database backend of
django-tasks (an INSERT into its table, counted here) after the operation's transaction
commits (the test runs those on-commit callbacks inside the count). Sending is the
worker's, in another process, and is not counted.
"""

import base64
import re
from contextlib import contextmanager
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tokens.tests.dpop_keys import DpopKey
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
TASK_TABLE = "django_tasks_database_dbtaskresult"


@pytest.fixture(autouse=True)
def _queue_in_the_database(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def data_queries(django_capture_on_commit_callbacks):
    """A context that collects the data statements of what runs inside it, including
    what runs once its transactions commit (the email queue's INSERT)."""

    @contextmanager
    def collect():
        with CaptureQueriesContext(connection) as captured:
            statements: list[str] = []
            with django_capture_on_commit_callbacks(execute=True):
                yield statements
        statements.extend(
            q["sql"] for q in captured.captured_queries if not CONTROL.match(q["sql"])
        )

    return collect


def is_enqueue(statement: str) -> bool:
    return statement.upper().startswith("INSERT") and TASK_TABLE in statement


def test_authenticated_get_is_one_query(api, user, login, bearer, data_queries):
    headers = bearer(login())
    with data_queries() as statements:
        assert api.get("/api/users/me", **headers).status_code == 200
    assert len(statements) == 1, statements
    assert "JOIN" in statements[0].upper()  # session and user together


def test_rotating_refresh_is_one_update(api, user, login, data_queries):
    login()
    with data_queries() as statements:
        assert api.post("/api/auth/refresh").status_code == 200
    # The fast path: one UPDATE ... RETURNING in autocommit (no BEGIN/COMMIT either),
    # the session's liveness, generation and user checked in its WHERE.
    assert len(statements) == 1, statements
    (update,) = statements
    assert update.upper().startswith("UPDATE")
    assert "RETURNING" in update.upper()


def test_a_rotating_refresh_reads_the_columns_it_uses(api, user, login, data_queries):
    """The UPDATE returns what a refresh uses (its tokens, the password binding, the
    audit line): the test above shows the audit receiver needs nothing more. A receiver
    of session_rotated that reads another column still gets it, for a query of its own."""
    from tokens import signals
    from tokens.models import RefreshToken

    login()
    seen = {}

    def receiver(sender, session, **kwargs):
        seen["deferred"] = session.get_deferred_fields()
        seen["device"] = session.device

    signals.session_rotated.connect(receiver, weak=False, dispatch_uid="test-receiver")
    try:
        with data_queries() as statements:
            assert api.post("/api/auth/refresh").status_code == 200
    finally:
        signals.session_rotated.disconnect(dispatch_uid="test-receiver")
    assert seen["deferred"] == {
        "created_at",
        "last_used_at",
        "rotated_at",
        "absolute_expires_at",
        "revoked_at",
        "revoke_reason",
        "remember_me",
        "user_agent",
        "device",
        "ip_address",
    }
    assert seen["device"] == RefreshToken.objects.get().device
    assert len(statements) == 2, statements  # the UPDATE, then the receiver's column


def test_rotating_refresh_opens_no_transaction(api, user, login):
    login()
    with CaptureQueriesContext(connection) as captured:
        assert api.post("/api/auth/refresh").status_code == 200
    assert not [q for q in captured.captured_queries if CONTROL.match(q["sql"])]


def test_refresh_stays_one_update_when_user_id_field_changes(
    api, user, login, data_queries, monkeypatch
):
    """The refresh's SQL is built once per setting it reads: after USER_ID_FIELD changes,
    the UPDATE still returns the access token's user id (no second query to fetch it)."""
    # The object every module imported (a SIMPLE_JWT setting in a test rebinds a new one
    # that they never see), as tokens/tests/test_signing.py does.
    from tokens.access import api_settings

    login()
    assert api.post("/api/auth/refresh").status_code == 200  # built for USER_ID_FIELD "id"
    monkeypatch.setattr(api_settings, "USER_ID_FIELD", "username")
    with data_queries() as statements:
        response = api.post("/api/auth/refresh")
    assert response.status_code == 200
    assert len(statements) == 1, statements
    claims = jwt.decode(response.data["access_token"], options={"verify_signature": False})
    assert claims["user_id"] == user.get_username()


def test_refresh_inside_the_reuse_interval_is_two_queries(api, user, login, data_queries):
    first = login().cookies["refresh_token"].value
    api.post("/api/auth/refresh")
    api.cookies["refresh_token"] = first
    with data_queries() as statements:
        assert api.post("/api/auth/refresh").status_code == 200
    # the fast path's UPDATE, which matches nothing; the locked read that decides
    assert len(statements) == 2, statements
    if connection.vendor == "postgresql":
        assert 'FOR UPDATE OF "tokens_refreshtoken"' in statements[1]


def test_replay_revocation_is_one_update_after_the_locked_read_then_the_email(
    api, user, login, data_queries
):
    first = login().cookies["refresh_token"].value
    api.post("/api/auth/refresh")
    api.post("/api/auth/refresh")
    api.cookies["refresh_token"] = first
    with data_queries() as statements:
        assert api.post("/api/auth/refresh").status_code == 401
    # the fast path's UPDATE that matches nothing; the locked read; the revoking UPDATE;
    # once that commits, the theft email's task into the queue
    assert len(statements) == 4, statements
    assert statements[2].upper().startswith("UPDATE")
    assert is_enqueue(statements[3])


def test_login_from_a_known_device_is_three_queries(api, user, login, data_queries):
    login(client=APIClient())  # the same (test client's) device, once before
    with data_queries() as statements:
        response = api.post(
            "/api/auth/login", {"email": user.get_username(), "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200
    # the user by email; the insert, which also counts the user's other live sessions
    # for the cap and asks whether this device was seen before; Django's last_login
    assert len(statements) == 3, statements
    select, insert, last_login = (s.upper() for s in statements)
    assert select.startswith("SELECT")
    assert insert.startswith("INSERT") and "RETURNING (SELECT COUNT(*)" in insert
    assert "EXISTS" in insert
    assert last_login.startswith("UPDATE") and "LAST_LOGIN" in last_login


def test_login_with_a_device_cookie_adds_one_select(api, user, login, data_queries):
    login()  # the client now holds a device cookie (tokens.known_devices)
    with data_queries() as statements:
        response = api.post(
            "/api/auth/login", {"email": user.get_username(), "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200
    # the user, to check the cookie names the account and its current password (before
    # the password check, to choose the budget); then the three of a known device
    assert len(statements) == 4, statements
    assert all(s.upper().startswith("SELECT") for s in statements[:2])
    assert statements[2].upper().startswith("INSERT")


def test_login_from_a_new_device_adds_the_email_task(api, user, login, data_queries):
    # another device only (the test client sends no user agent: an "Unknown device")
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    login(client=APIClient(HTTP_USER_AGENT=firefox))
    with data_queries() as statements:
        response = api.post(
            "/api/auth/login", {"email": user.get_username(), "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200
    # the three of a known device, then (after the commit) the email's task
    assert len(statements) == 4, statements
    assert statements[1].upper().startswith("INSERT") and not is_enqueue(statements[1])
    assert is_enqueue(statements[3])


def test_login_at_the_session_cap_adds_one_eviction_update(
    api, user, settings, login, data_queries
):
    settings.TOKENS = {**settings.TOKENS, "SESSIONS_PER_USER_LIMIT": 2}
    login(client=APIClient())
    login(client=APIClient())
    with data_queries() as statements:
        login()
    assert len(statements) == 4, statements
    assert statements[2].upper().startswith("UPDATE")  # the eviction, after the insert


def test_logout_by_cookie_is_one_update(api, user, login, data_queries):
    login()
    with data_queries() as statements:
        assert api.post("/api/auth/logout").status_code == 200
    assert len(statements) == 1, statements


def test_logout_all_is_auth_plus_one_update(api, user, login, bearer, data_queries):
    for _ in range(5):
        login(client=APIClient())
    headers = bearer(login())
    with data_queries() as statements:
        assert api.post("/api/auth/logout-all", **headers).json()["revoked"] == 6
    assert len(statements) == 2, statements


def test_reauthenticate_is_auth_plus_one_update(api, user, login, bearer, data_queries):
    headers = bearer(login())
    with data_queries() as statements:
        response = api.post(
            "/api/auth/reauthenticate", {"password": PASSWORD}, format="json", **headers
        )
    assert response.status_code == 200
    # The session check of the bearer token, then the session's auth time renewed in an
    # UPDATE whose WHERE checks it is still live and bound to this password.
    assert len(statements) == 2, statements
    assert statements[1].upper().startswith("UPDATE")


def test_refused_step_up_is_the_auth_query_only(api, user, login, bearer, settings, data_queries):
    settings.TOKENS = {**settings.TOKENS, "REAUTHENTICATION_MAX_AGE": 1}
    headers = bearer(login())
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        with data_queries() as statements:
            assert api.post("/api/auth/logout-all", **headers).status_code == 403
    assert len(statements) == 1, statements


def test_sessions_list_is_two_queries_whatever_the_count(api, user, login, bearer, data_queries):
    for _ in range(10):
        login(client=APIClient())
    headers = bearer(login())
    with data_queries() as statements:
        assert len(api.get("/api/auth/sessions", **headers).json()) == 11
    assert len(statements) == 2, statements


def test_revoke_one_session_is_auth_plus_one_update(api, user, login, bearer, data_queries):
    from rest_framework_simplejwt.tokens import AccessToken

    other = login(client=APIClient())
    sid = AccessToken(other.json()["access_token"])["sid"]
    headers = bearer(login())
    with data_queries() as statements:
        assert api.delete(f"/api/auth/sessions/{sid}", **headers).status_code == 204
    assert len(statements) == 2, statements


def test_notification_preferences_read_and_write(api, user, login, bearer, data_queries):
    headers = bearer(login())
    with data_queries() as statements:
        assert api.get("/api/auth/notifications", **headers).status_code == 200
    assert len(statements) == 2, statements  # authentication, the preference (or none)
    with data_queries() as statements:
        body = {"new_device": False}
        response = api.put("/api/auth/notifications", body, format="json", **headers)
        assert response.status_code == 200
    # authentication; Django's update_or_create: the row locked (none yet), the insert
    assert len(statements) == 3, statements


def test_introspection_is_one_query(api, user, login, settings, data_queries):
    settings.TOKENS = {**settings.TOKENS, "INTROSPECTION_CLIENTS": {"billing": "b" * 40}}
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


def test_a_bound_get_is_still_one_query(api, user, data_queries):
    """The session's DPoP key comes with the row the request already reads."""
    key = DpopKey()
    response = api.post(
        "/api/auth/login",
        {"email": user.get_username(), "password": PASSWORD},
        format="json",
        HTTP_DPOP=key.proof("POST", "/api/auth/login"),
    )
    token = response.json()["access_token"]
    with data_queries() as statements:
        assert (
            api.get("/api/users/me", **key.headers("GET", "/api/users/me", token)).status_code
            == 200
        )
    assert len(statements) == 1, statements


def test_a_bound_refresh_is_still_one_update(api, user, data_queries):
    key = DpopKey()
    api.post(
        "/api/auth/login",
        {"email": user.get_username(), "password": PASSWORD},
        format="json",
        HTTP_DPOP=key.proof("POST", "/api/auth/login"),
    )
    with data_queries() as statements:
        response = api.post("/api/auth/refresh", HTTP_DPOP=key.proof("POST", "/api/auth/refresh"))
        assert response.status_code == 200
    assert len(statements) == 1, statements
    # and a refresh without the proof: refused after the UPDATE that matched nothing and
    # the locked read that says why, with nothing written
    with data_queries() as statements:
        assert api.post("/api/auth/refresh").status_code == 401
    assert len(statements) == 2, statements
