"""A login that checked the old password, racing a password change, leaves no live
session: real concurrent requests to a live server (two gunicorn workers, the
production hasher), at several offsets, on the suite's own database."""

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import pytest

from authsite import testing

pytestmark = pytest.mark.slow

OLD, NEW = "the old passphrase 1", "the new passphrase 2"
# How long after the change-password request the login is sent, in seconds. The change
# hashes twice (Argon2, about 0.1-0.3 s) before it writes, so these land before, inside
# and after its transaction.
OFFSETS = [-0.05, 0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0]


def call(base: str, method: str, path: str, body=None, *, bearer=None, cookie=None):
    """One request on its own connection: (status, JSON body, refresh cookie or None)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if cookie:
        headers["Cookie"] = f"refresh_token={cookie}"
    try:
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
        token = next(
            (
                c.split(";", 1)[0].partition("=")[2]
                for c in cookies
                if c.startswith("refresh_token=")
            ),
            None,
        )
        return response.status, json.loads(payload) if payload else None, token or None
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server(live_database, live_workdir):
    env = testing.base_env(
        DATABASE_URL=live_database.url(),
        RATE_LIMIT_LOGIN="100000/m",
        RATE_LIMIT_DEFAULT="100000/m",
    )
    server = testing.start_server(env, live_workdir, workers=2)
    yield server
    server.stop()


def race(base: str, email: str, offset: float) -> tuple:
    """Change the password and, ``offset`` s later, log in with the old one."""
    assert call(base, "POST", "/api/auth/register", {"email": email, "password": OLD})[0] == 201
    status, body, _ = call(base, "POST", "/api/auth/login", {"email": email, "password": OLD})
    assert status == 200
    changer = body["access_token"]
    results = {}

    def change():
        results["change"] = call(
            base,
            "POST",
            "/api/auth/change-password",
            {"current_password": OLD, "new_password": NEW},
            bearer=changer,
        )

    def login():
        results["login"] = call(base, "POST", "/api/auth/login", {"email": email, "password": OLD})

    first, second = (change, login) if offset >= 0 else (login, change)
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    time.sleep(abs(offset))  # the offset between two real requests, not a wait for state
    threads[1].start()
    for thread in threads:
        thread.join(timeout=60)
    return changer, results["change"], results["login"]


def test_a_login_with_the_old_password_never_outlives_the_change(server):
    for i, offset in enumerate(OFFSETS):
        email = f"race{i}@example.com"
        changer, change, login = race(server.url, email, offset)
        assert change[0] == 200, change
        assert login[0] in (200, 400), login
        # The changer's session lives on.
        assert call(server.url, "GET", "/api/users/me", bearer=changer)[0] == 200
        if login[0] == 400:
            assert login[1] == {"detail": "LOGIN_BAD_CREDENTIALS"}
            assert login[2] is None  # no cookie
            continue
        # A login that got in before the change was committed: the change ended it.
        _, body, cookie = login
        me = call(server.url, "GET", "/api/users/me", bearer=body["access_token"])
        assert me[0] == 401, (offset, me)
        assert call(server.url, "POST", "/api/auth/refresh", cookie=cookie)[0] == 401, offset
        listed = call(server.url, "GET", "/api/auth/sessions", bearer=changer)[1]
        assert len(listed) == 1, (offset, listed)
    assert server.errors().count("Traceback") == 0, server.errors()


def test_the_two_orders_without_a_race(server):
    """Both outcomes the race test accepts, each forced: a login done before the change
    is ended by it; a login sent after it is refused. (On a loaded machine the racing
    offsets may all land on one side; these two always cover both.)"""
    base = server.url
    assert (
        call(base, "POST", "/api/auth/register", {"email": "x@example.com", "password": OLD})[0]
        == 201
    )
    changer = call(base, "POST", "/api/auth/login", {"email": "x@example.com", "password": OLD})
    before = call(base, "POST", "/api/auth/login", {"email": "x@example.com", "password": OLD})
    assert before[0] == 200
    body = {"current_password": OLD, "new_password": NEW}
    change = call(
        base, "POST", "/api/auth/change-password", body, bearer=changer[1]["access_token"]
    )
    assert change[0] == 200 and change[1]["revoked"] == 1
    assert call(base, "GET", "/api/users/me", bearer=before[1]["access_token"])[0] == 401
    assert call(base, "POST", "/api/auth/refresh", cookie=before[2])[0] == 401
    after = call(base, "POST", "/api/auth/login", {"email": "x@example.com", "password": OLD})
    assert after[:2] == (400, {"detail": "LOGIN_BAD_CREDENTIALS"})
