"""Concurrent refreshes of one cookie never fork a session and never fail with a 5xx."""

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client

from tokens import crypto
from tokens.models import RefreshToken
from tokens.tests import live
from tokens.tests.fixtures import PASSWORD

THREADS = 16


def refresh_together(token: str, threads: int = THREADS) -> list:
    """Refresh one token from many threads at once, each with its own connection."""
    barrier = threading.Barrier(threads)

    def one(_):
        client = Client()
        client.cookies["refresh_token"] = token
        try:
            barrier.wait(timeout=30)
            response = client.post("/api/auth/refresh")
            morsel = response.cookies.get("refresh_token")
            return response.status_code, morsel.value if morsel else None
        finally:
            connection.close()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(threads)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_refreshes_of_one_cookie_agree(make_user):
    make_user()
    login = Client().post(
        "/api/auth/login",
        {"email": "alice@example.com", "password": PASSWORD},
        content_type="application/json",
    )
    token = login.cookies["refresh_token"].value

    results = refresh_together(token)

    statuses = [status for status, _ in results]
    assert all(status < 500 for status in statuses), statuses
    assert statuses == [200] * THREADS  # all inside the reuse interval
    successors = {cookie for _, cookie in results}
    assert len(successors) == 1
    (successor,) = successors
    assert crypto.decode(successor).generation == 2
    session = RefreshToken.objects.get()
    assert session.generation == 2
    assert session.revoked_at is None

    # The session goes on from the one successor.
    client = Client()
    client.cookies["refresh_token"] = successor
    assert client.post("/api/auth/refresh").status_code == 200
    assert RefreshToken.objects.get().generation == 3


def post(base: str, path: str, body: dict | None = None, cookie: str | None = None):
    """One request on its own connection, so gunicorn spreads them over its workers."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = f"refresh_token={cookie}"
    try:
        conn.request("POST", path, body=json.dumps(body or {}), headers=headers)
        response = conn.getresponse()
        response.read()
        set_cookie = response.getheader("Set-Cookie") or ""
        value = set_cookie.split(";", 1)[0].partition("=")[2] if set_cookie else None
        return response.status, value
    finally:
        conn.close()


@pytest.mark.slow
def test_concurrent_refreshes_on_sqlite_under_two_gunicorn_workers(tmp_path):
    """SQLite has no row locks; IMMEDIATE transactions and a busy timeout make writers
    queue rather than fail with "database is locked"."""
    env = live.base_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        RATE_LIMIT_LOGIN="100000/m",
        RATE_LIMIT_DEFAULT="100000/m",
    )
    live.manage(env, "migrate", "--noinput")
    server = live.start_server(env, tmp_path, workers=2)
    try:
        base = server.url
        email, password = "sqlite@example.com", "a long enough passphrase"
        live.create_user(env, email, password)
        cookies = []
        for _ in range(4):
            status, cookie = post(base, "/api/auth/login", {"email": email, "password": password})
            assert status == 200
            cookies.append(cookie)

        # 4 sessions, each refreshed by 4 clients at once: 16 concurrent writers.
        barrier = threading.Barrier(16)

        def one(i):
            barrier.wait(timeout=30)
            return post(base, "/api/auth/refresh", cookie=cookies[i % 4])

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(one, range(16)))
    finally:
        server.stop()

    statuses = [status for status, _ in results]
    assert all(status < 500 for status in statuses), statuses
    assert statuses == [200] * 16
    for i in range(4):
        successors = {cookie for j, (_, cookie) in enumerate(results) if j % 4 == i}
        assert len(successors) == 1  # one live chain per session
