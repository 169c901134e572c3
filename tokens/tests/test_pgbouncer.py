"""Refresh, its reuse interval and revocation through PgBouncer in transaction mode.

Behind a transaction pooler each transaction may run on another server connection, so
all a refresh may rely on is its own transaction: the row lock (SELECT ... FOR UPDATE)
that makes concurrent refreshes of one cookie agree on one successor. Two gunicorn
workers of 8 threads each hold up to 16 connections to PgBouncer, which multiplexes
them over fewer server connections (docs/production.md, "Running on PostgreSQL").
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tokens.errors import REFRESH_TOKEN_INVALID
from tokens.tests import live

THREADS = 16
POOL_SIZE = 4  # server connections per database, fewer than the concurrent clients
PASSWORD = "a long enough passphrase"
COOKIE = "refresh_token"

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def pooled(live_database, live_workdir):
    """(server, pgbouncer): gunicorn with DATABASE_POOLING=transaction behind PgBouncer."""
    # Module scope runs before the autouse marker checks: decide here, start nothing.
    if live_database.postgres is None:
        live.skip_or_fail("REQUIRE_POSTGRES", "needs PostgreSQL behind PgBouncer")
    live.skip_or_fail_without_pgbouncer()
    bouncer = live.start_pgbouncer(live_database, live_workdir, pool_size=POOL_SIZE)
    try:
        env = live.base_env(
            DATABASE_URL=live_database.url(port=bouncer.port),  # migrated directly
            DATABASE_POOLING="transaction",
            RATE_LIMIT_LOGIN="100000/m",
            RATE_LIMIT_DEFAULT="100000/m",
            # Threads, so that 16 requests at once are 16 database connections.
            GUNICORN_CMD_ARGS="--threads 8",
        )
        server = live.start_server(env, live_workdir, workers=2)
        try:
            yield server, bouncer
        finally:
            server.stop()
    finally:
        bouncer.stop()


def new_user(server: live.Server) -> str:
    email = f"{uuid.uuid4().hex}@example.com"
    live.create_user(server.env, email, PASSWORD)
    return email


def login(url: str, email: str) -> tuple[str, str]:
    """(access token, refresh cookie) of a new session."""
    response = requests.post(
        f"{url}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"], response.cookies[COOKIE]


def refresh(url: str, cookie: str) -> requests.Response:
    # A connection of its own (Connection: close), so gunicorn spreads the requests.
    return requests.post(
        f"{url}/api/auth/refresh",
        headers={"Cookie": f"{COOKIE}={cookie}", "Connection": "close"},
        timeout=60,
    )


def test_sixteen_concurrent_refreshes_through_pgbouncer_agree(pooled):
    server, bouncer = pooled
    _, cookie = login(server.url, new_user(server))
    database = server.env["DATABASE_URL"].rsplit("/", 1)[1]
    barrier = threading.Barrier(THREADS)

    def one(_):
        barrier.wait(timeout=30)
        response = refresh(server.url, cookie)
        return response.status_code, response.cookies.get(COOKIE)

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one, range(THREADS)))

    statuses = [status for status, _ in results]
    assert statuses == [200] * THREADS, (statuses, server.errors())
    successors = {successor for _, successor in results}
    assert len(successors) == 1  # one live chain: the row lock held through the pooler
    (successor,) = successors
    assert refresh(server.url, successor).status_code == 200

    # The requests really shared server connections: more clients than servers.
    clients = [row for row in bouncer.admin("SHOW CLIENTS") if row["database"] == database]
    servers = [row for row in bouncer.admin("SHOW SERVERS") if row["database"] == database]
    assert len(servers) <= POOL_SIZE < len(clients), (len(servers), len(clients))


def test_a_retry_inside_the_reuse_interval_gets_the_same_successor(pooled):
    server, _ = pooled
    _, first = login(server.url, new_user(server))
    response = refresh(server.url, first)
    assert response.status_code == 200
    successor = response.cookies[COOKIE]

    retry = refresh(server.url, first)  # a lost response, retried at once

    assert retry.status_code == 200
    assert retry.cookies[COOKIE] == successor
    assert refresh(server.url, successor).status_code == 200


def test_logout_revokes_both_tokens_at_once(pooled):
    server, _ = pooled
    _, first = login(server.url, new_user(server))
    response = refresh(server.url, first)
    access, cookie = response.json()["access_token"], response.cookies[COOKIE]
    me = f"{server.url}/api/users/me"
    assert requests.get(me, headers={"Authorization": f"Bearer {access}"}, timeout=30).ok

    logout = requests.post(
        f"{server.url}/api/auth/logout", headers={"Cookie": f"{COOKIE}={cookie}"}, timeout=30
    )
    assert logout.status_code == 200

    for presented in (cookie, first):  # the predecessor is inside the reuse interval
        denied = refresh(server.url, presented)
        assert denied.status_code == 401
        assert denied.json() == {"detail": REFRESH_TOKEN_INVALID}
    gone = requests.get(me, headers={"Authorization": f"Bearer {access}"}, timeout=30)
    assert gone.status_code == 401
