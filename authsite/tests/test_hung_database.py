"""A database that holds requests up answers 503 JSON with Retry-After in seconds, never
gunicorn's HTML 500 when it kills the worker after 30 s: a PostgreSQL that accepts and
never answers (libpq's connect_timeout, DATABASE_CONNECT_TIMEOUT), the same behind
PgBouncer, and a row lock that is never released (statement_timeout,
DATABASE_STATEMENT_TIMEOUT). Live gunicorn servers with their defaults."""

import time

import psycopg
import pytest
import requests

from authsite import testing
from tokens.errors import SERVICE_UNAVAILABLE
from tokens.tests import live
from tokens.tests.tcp_proxy import HungListener, TcpProxy

pytestmark = pytest.mark.slow

# The default connect timeout (5 s) and a loaded machine; gunicorn's timeout is 30 s.
WITHIN_SECONDS = 12
PASSWORD = "a long enough passphrase"


def timed(method: str, url: str, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.request(method, url, timeout=40, **kwargs)
    return response, time.monotonic() - started


def assert_unavailable_fast(response: requests.Response, seconds: float) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:200])
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["detail"] == SERVICE_UNAVAILABLE
    assert int(response.headers["Retry-After"]) > 0
    assert seconds < WITHIN_SECONDS, seconds


def assert_health_and_login_unavailable_fast(server: live.Server) -> None:
    assert_unavailable_fast(*timed("get", f"{server.url}/api/health"))
    credentials = {"email": "alice@example.com", "password": PASSWORD}
    assert_unavailable_fast(*timed("post", f"{server.url}/api/auth/login", json=credentials))
    assert "Traceback" not in server.errors()


def test_a_hung_postgresql_answers_503_json_in_seconds(live_workdir):
    # No PostgreSQL needed: the "server" is a listener that accepts and never answers.
    with HungListener() as hung:
        env = testing.base_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{hung.port}/authsite")
        server = testing.start_server(env, live_workdir)
        try:
            assert_health_and_login_unavailable_fast(server)
        finally:
            server.stop()


@pytest.mark.postgres
def test_pgbouncer_waiting_on_a_hung_postgresql_answers_503_json_in_seconds(live_workdir):
    live.skip_or_fail_without_pgbouncer()
    with HungListener() as hung:
        dead = live.LiveDatabase(
            workdir=live_workdir,
            postgres={"HOST": "127.0.0.1", "PORT": hung.port, "USER": "postgres"},
        )
        bouncer = live.start_pgbouncer(dead, live_workdir, pool_size=2)
        try:
            env = testing.base_env(
                DATABASE_URL=f"postgres://postgres@127.0.0.1:{bouncer.port}/authsite",
                DATABASE_POOLING="transaction",
            )
            server = testing.start_server(env, live_workdir)
            try:
                assert_health_and_login_unavailable_fast(server)
            finally:
                server.stop()
        finally:
            bouncer.stop()


@pytest.mark.postgres
def test_pgbouncer_with_query_wait_timeout_answers_for_a_database_that_hangs_later(
    live_database, live_workdir
):
    """The server already holds its connections to PgBouncer when PostgreSQL hangs: only
    PgBouncer's query_wait_timeout (docs/production.md) bounds the wait for a server."""
    live.skip_or_fail_without_pgbouncer()
    url = live_database.url()  # migrated directly
    proxy = TcpProxy(("127.0.0.1", int(live_database.postgres["PORT"] or 5432)), live.free_port())
    proxy.open()
    bouncer = live.start_pgbouncer(
        live_database, live_workdir, pool_size=2, port=proxy.port, query_wait_timeout=3
    )
    server = None
    try:
        env = testing.base_env(
            DATABASE_URL=f"postgres://{live_database.postgres['USER']}@127.0.0.1:"
            f"{bouncer.port}/{url.rsplit('/', 1)[1]}",
            DATABASE_POOLING="transaction",
        )
        server = testing.start_server(env, live_workdir)
        assert requests.get(f"{server.url}/api/health", timeout=30).status_code == 200
        proxy.close()  # PostgreSQL's connections drop, and its port now hangs
        with HungListener(port=proxy.port):
            assert_unavailable_fast(*timed("get", f"{server.url}/api/health"))
    finally:
        if server is not None:
            server.stop()
        bouncer.stop()
        proxy.close()


@pytest.mark.postgres
def test_a_row_lock_never_released_answers_503_json_in_seconds(live_database, live_workdir):
    env = testing.base_env(DATABASE_URL=live_database.url(), DATABASE_STATEMENT_TIMEOUT="2")
    (seeded,) = live.seed_sessions(env, users=1, sessions_per_user=1, project=testing.AUTHSITE)
    server = testing.start_server(env, live_workdir)
    pg = live_database.postgres
    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    try:
        with psycopg.connect(
            host=pg["HOST"],
            port=pg["PORT"] or 5432,
            user=pg["USER"],
            password=pg.get("PASSWORD") or None,
            dbname=name,
        ) as holder:
            # Another transaction (a stuck process, a long admin query) holds the
            # session's row lock and never lets go while the refresh waits for it.
            holder.execute(
                "SELECT 1 FROM tokens_refreshtoken WHERE id = %s FOR UPDATE",
                (seeded["session_id"],),
            )
            response, seconds = timed(
                "post",
                f"{server.url}/api/auth/refresh",
                headers={"Cookie": f"refresh_token={seeded['refresh_token']}"},
            )
            holder.rollback()
        assert_unavailable_fast(response, seconds)
        assert "Set-Cookie" not in response.headers  # the cookie still works afterwards
        again = requests.post(
            f"{server.url}/api/auth/refresh",
            headers={"Cookie": f"refresh_token={seeded['refresh_token']}"},
            timeout=30,
        )
        assert again.status_code == 200, again.text
    finally:
        server.stop()
