"""The lockout, against two gunicorn workers sharing their counters in Redis.

Each rule of the contract's "Rate limits" paragraph over real HTTP, and the takeover
story end to end: a thief who has the password signs in, strangers hammer the account
with failed and password-less logins from many addresses, and the owner still proves
the password, ends the thief's session and signs in again from a known browser.
Every client has its own address (X-Forwarded-For behind one trusted proxy) and every
test its own accounts, so the shared Redis holds no counter another test or run spends.
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tokens.tests import live

PASSWORD = "correct horse battery staple"
LIMIT = 5

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(live_database, live_workdir):
    live.skip_or_fail_without_redis()
    env = live.base_env(
        DATABASE_URL=live_database.url(),
        REDIS_URL=live.REDIS_TEST_URL,
        # Per hour: a minute's window could close in the middle of a test.
        RATE_LIMIT_LOGIN=f"{LIMIT}/h",
        TRUSTED_PROXY_COUNT="1",
    )
    server = live.start_server(env, live_workdir, workers=2)
    yield server
    server.stop()


@pytest.fixture
def account(server) -> str:
    name = f"owner-{uuid.uuid4().hex[:12]}"
    live.create_user(server.env, name, PASSWORD)
    return name


def address() -> str:
    return ".".join(str(b) for b in [10, *uuid.uuid4().bytes[:3]])


class Browser:
    """One client: its own cookies (requests' jar keeps the device cookie) and address."""

    def __init__(self, server: live.Server, ip: str | None = None) -> None:
        self.url = server.url
        self.ip = ip or address()
        self.http = requests.Session()

    def post(self, path: str, body: dict | None = None, token: str | None = None, **kw):
        headers = {"X-Forwarded-For": self.ip, "Connection": "close"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.post(f"{self.url}{path}", json=body, headers=headers, timeout=30, **kw)

    def login(self, name: str, password: str | None = PASSWORD) -> requests.Response:
        body = {"email": name} if password is None else {"email": name, "password": password}
        return self.post("/api/auth/login", body)


def stranger_fails(server: live.Server, name: str) -> int:
    return Browser(server).login(name, "wrong guess").status_code


def test_only_failed_checks_spend_the_accounts_budget(server, account):
    for _ in range(8):  # successes from eight addresses
        assert Browser(server).login(account).status_code == 200
    for _ in range(20):  # bodies that fail validation
        assert Browser(server).login(account, None).status_code == 400
    over = Browser(server)  # an address over its own limit, naming the account
    for _ in range(LIMIT):
        assert over.login(f"nobody-{uuid.uuid4().hex}", "x").status_code == 400
    for _ in range(30):
        assert over.login(account, None).status_code == 429
        assert over.login(account, "wrong guess").status_code == 429
    # All of that spent nothing: the whole budget of failures is still there.
    assert [stranger_fails(server, account) for _ in range(LIMIT + 1)] == [400] * LIMIT + [429]
    assert Browser(server).login(account).status_code == 429  # unknown clients are limited


@pytest.mark.parametrize("concurrency", [2, 6, 20])
def test_simultaneous_guesses_cannot_slip_past_the_budget(server, concurrency):
    # Many addresses at once: each guess is taken before its check, so however the
    # two workers interleave them, exactly the budget's worth are checked.
    name = f"target-{uuid.uuid4().hex[:12]}"
    live.create_user(server.env, name, PASSWORD)
    barrier = threading.Barrier(concurrency)

    def guess(_) -> int:
        browser = Browser(server)
        barrier.wait()
        return browser.login(name, "wrong guess").status_code

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = [s for _ in range(3) for s in pool.map(guess, range(concurrency))]
    assert statuses.count(400) == LIMIT, statuses
    assert statuses.count(429) == len(statuses) - LIMIT


def test_the_takeover_story(server, account):
    owner = Browser(server)
    owner_session = owner.login(account).json()["access_token"]
    thief = Browser(server)
    thief_session = thief.login(account).json()["access_token"]

    # Strangers hammer the account from many addresses for the whole story: failed
    # guesses, password-less logins, and one address far over its own limit.
    stop = threading.Event()
    sent: list[int] = []

    def hammer() -> None:
        over = Browser(server)
        while not stop.is_set():
            sent.append(stranger_fails(server, account))
            sent.append(Browser(server).login(account, None).status_code)
            sent.append(over.login(account, None).status_code)

    hammering = [threading.Thread(target=hammer) for _ in range(2)]
    for thread in hammering:
        thread.start()
    try:
        while sent.count(429) < 2 * LIMIT:  # until unknown clients are well locked out
            threading.Event().wait(0.05)  # polling the other threads' progress
        assert Browser(server).login(account).status_code == 429

        # The owner proves the password again on the session's own budget ...
        reauth = owner.post("/api/auth/reauthenticate", {"password": PASSWORD}, owner_session)
        assert reauth.status_code == 200, reauth.text
        fresh = reauth.json()["access_token"]
        # ... ends the thief's session (a destructive action: it needs that proof) ...
        sessions = owner.http.get(
            f"{server.url}/api/auth/sessions",
            headers={"Authorization": f"Bearer {fresh}", "X-Forwarded-For": owner.ip},
            timeout=30,
        ).json()
        thiefs = [s["id"] for s in sessions if not s["current"]]
        assert len(thiefs) == 1
        revoked = owner.http.delete(
            f"{server.url}/api/auth/sessions/{thiefs[0]}",
            headers={"Authorization": f"Bearer {fresh}", "X-Forwarded-For": owner.ip},
            timeout=30,
        )
        assert revoked.status_code == 204
        # ... which the thief's tokens feel at once: no logout-all, no refresh.
        assert thief.post("/api/auth/logout-all", token=thief_session).status_code == 401
        assert thief.post("/api/auth/refresh").status_code == 401
        # The owner's session lives, and the owner's browser signs in again.
        assert owner.post("/api/auth/refresh").status_code == 200
        assert owner.login(account).status_code == 200
    finally:
        stop.set()
        for thread in hammering:
            thread.join(timeout=60)
    assert 500 not in sent and 503 not in sent
