"""Simultaneous logins of one user all succeed: a live gunicorn with several workers on
the suite's own database, and on PostgreSQL through PgBouncer too, at several timings.

A login's session INSERT locks the user's row (so that a login racing a password change
leaves no live session, tokens/tests/test_password_race.py), and Django's
``user_logged_in`` then UPDATEs ``last_login`` on that row in the same transaction. With
a shared lock first, two logins of one user each waited for the other's lock to upgrade:
PostgreSQL broke the deadlock by failing one of them (503).
"""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from authsite import testing
from tokens.tests import live

pytestmark = pytest.mark.slow

# The live server is the project's (authsite), whatever settings the suite runs with.

WORKERS = 4
AT_ONCE = 4  # logins of the one user in flight together
ROUNDS = 3
# Seconds between the starts of the logins of one round: all at once, then staggered
# so that one login's transaction is under way when the next arrives.
STAGGERS = [0.0, 0.005, 0.02]
PASSWORD = "a long enough passphrase"


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    return testing.base_env(
        DATABASE_URL=database_url,
        RATE_LIMIT_LOGIN="100000/m",
        RATE_LIMIT_DEFAULT="100000/m",
        SESSIONS_PER_USER_LIMIT="0",
        **extra,
    )


@pytest.fixture(scope="module")
def direct(live_database, live_workdir):
    server = testing.start_server(server_env(live_database.url()), live_workdir, workers=WORKERS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pooled(live_database, live_workdir):
    if live_database.postgres is None:
        testing.skip_or_fail("REQUIRE_POSTGRES", "needs PostgreSQL behind PgBouncer")
    live.skip_or_fail_without_pgbouncer()
    bouncer = live.start_pgbouncer(live_database, live_workdir, pool_size=2)
    try:
        env = server_env(live_database.url(port=bouncer.port), DATABASE_POOLING="transaction")
        server = testing.start_server(env, live_workdir, workers=WORKERS)
        try:
            yield server
        finally:
            server.stop()
    finally:
        bouncer.stop()


def login(url: str, email: str) -> requests.Response:
    # A connection of its own (Connection: close), so gunicorn spreads the requests.
    return requests.post(
        f"{url}/api/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"Connection": "close"},
        timeout=60,
    )


def logins_of_one_user(url: str) -> tuple[str, list[int]]:
    """Register a user and log them in AT_ONCE at a time, ROUNDS times per stagger;
    the email and every login's status."""
    email = f"{uuid.uuid4().hex}@example.com"
    registered = requests.post(
        f"{url}/api/auth/register", json={"email": email, "password": PASSWORD}, timeout=60
    )
    assert registered.status_code == 201, registered.text
    statuses = []
    for stagger in STAGGERS:
        for _ in range(ROUNDS):
            barrier = threading.Barrier(AT_ONCE)

            def one(position: int, stagger=stagger, barrier=barrier) -> int:
                barrier.wait(timeout=60)
                time.sleep(position * stagger)  # the offset between real requests
                return login(url, email).status_code

            with ThreadPoolExecutor(AT_ONCE) as pool:
                statuses += pool.map(one, range(AT_ONCE))
    return email, statuses


def assert_every_login_succeeded(server) -> None:
    email, statuses = logins_of_one_user(server.url)
    assert statuses == [200] * len(statuses), {s: statuses.count(s) for s in set(statuses)}
    # Each login is one live session of the user.
    access = login(server.url, email).json()["access_token"]
    sessions = requests.get(
        f"{server.url}/api/auth/sessions",
        headers={"Authorization": f"Bearer {access}"},
        timeout=60,
    ).json()
    assert len(sessions) == len(statuses) + 1
    assert "deadlock" not in server.errors()


def test_simultaneous_logins_of_one_user_all_succeed(direct):
    assert_every_login_succeeded(direct)


@pytest.mark.postgres
def test_simultaneous_logins_of_one_user_through_pgbouncer(pooled):
    assert_every_login_succeeded(pooled)
