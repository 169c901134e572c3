"""Django's own bookkeeping: the auth signals an API login and logout send.

Apps that listen to ``user_logged_in`` (``last_login``), ``user_logged_out`` or
``user_login_failed`` (lockout and alerting apps) see the API as they see Django's
own login view, as django-rest-knox does.
"""

import pytest
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from rest_framework.test import APIClient

from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """Every auth signal sent during the test, as (signal name, kwargs)."""
    seen = []

    def listener(name):
        def receive(sender, **kwargs):
            seen.append((name, kwargs))

        return receive

    receivers = {
        user_logged_in: listener("logged_in"),
        user_logged_out: listener("logged_out"),
        user_login_failed: listener("login_failed"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    yield seen
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


def test_login_sets_last_login_and_sends_user_logged_in(api, user, login, received):
    assert user.last_login is None
    login()
    user.refresh_from_db()
    assert user.last_login is not None
    [(name, kwargs)] = received
    assert name == "logged_in"
    assert kwargs["user"] == user
    assert kwargs["request"].path == "/api/auth/login"


def test_a_failed_login_sends_user_login_failed_with_the_request(api, user, received):
    response = api.post(
        "/api/auth/login", {"email": user.get_username(), "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    [(name, kwargs)] = received
    assert name == "login_failed"
    assert kwargs["request"] is not None
    assert kwargs["request"].path == "/api/auth/login"
    assert kwargs["credentials"]["password"] != "wrong"  # Django masks it for receivers


def test_logout_by_bearer_sends_user_logged_out(api, user, login, bearer, received):
    headers = bearer(login())
    api.cookies.clear()
    assert api.post("/api/auth/logout", **headers).status_code == 200
    assert [(n, k["user"]) for n, k in received] == [("logged_in", user), ("logged_out", user)]


def test_cookie_only_logout_sends_user_logged_out_with_the_user(user, login, received):
    client = APIClient()
    login(client=client)
    assert client.post("/api/auth/logout").status_code == 200
    assert [(n, k["user"]) for n, k in received] == [("logged_in", user), ("logged_out", user)]


def test_a_refused_logout_sends_nothing(api, db, received):
    assert api.post("/api/auth/logout").status_code == 401
    assert received == []


def test_login_with_the_wrong_password_sends_no_logged_in(api, user, received):
    api.post(
        "/api/auth/login", {"email": user.get_username(), "password": PASSWORD + "x"}, format="json"
    )
    assert [name for name, _ in received] == ["login_failed"]
