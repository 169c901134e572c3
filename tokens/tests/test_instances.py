"""Three service instances, one PostgreSQL database and one Redis: nothing that decides
a request lives in an instance.

The session's state (its live generation, when it rotated, whether it is revoked) is in
PostgreSQL and the rate-limit counters are in Redis, so one user's requests may land on
any instance (docs/performance.md, "Capacity"). Each client here has an address of its own (behind a
trusted proxy) so its counters start at zero in the shared Redis.
"""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tokens.errors import RATE_LIMITED, REFRESH_TOKEN_INVALID
from tokens.tests import live

LOGIN_LIMIT = 5
# Per hour, not the default per minute: django-ratelimit counts in fixed windows, and a
# minute's window could close between the 5th and the 6th login on a busy machine.
LOGIN_RATE = f"{LOGIN_LIMIT}/h"
REUSE_INTERVAL = 2  # seconds; short, as the replay half of a test waits it out
PASSWORD = "a long enough passphrase"
COOKIE = "refresh_token"

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def instances(live_database, live_workdir):
    """Three gunicorn instances on their own ports, one database, one Redis."""
    # Module scope runs before the autouse marker checks: decide here, start nothing.
    if live_database.postgres is None:
        live.skip_or_fail("REQUIRE_POSTGRES", "needs PostgreSQL shared by three instances")
    live.skip_or_fail_without_redis()
    env = live.base_env(
        DATABASE_URL=live_database.url(),
        REDIS_URL=live.REDIS_TEST_URL,
        RATE_LIMIT_LOGIN=LOGIN_RATE,
        RATE_LIMIT_DEFAULT="100000/m",
        REFRESH_TOKEN_REUSE_INTERVAL=str(REUSE_INTERVAL),
        TRUSTED_PROXY_COUNT="1",
    )
    with ThreadPoolExecutor(3) as pool:
        started = [pool.submit(live.start_server, env, live_workdir) for _ in range(3)]
    servers = [future.result() for future in started]  # raises if one did not start
    try:
        yield Instances([server.url for server in servers], env)
    finally:
        for server in servers:
            server.stop()


class Instances(list):
    """The instances' URLs, and the environment they share (the database's)."""

    def __init__(self, urls: list[str], env: dict[str, str]) -> None:
        super().__init__(urls)
        self.env = env


class Client:
    """One user's device: its own address, requests to whichever instance it is given."""

    def __init__(self) -> None:
        self.ip = ".".join(str(b) for b in [10, *uuid.uuid4().bytes[:3]])

    def post(self, url: str, path: str, *, cookie=None, access=None, body=None):
        headers = {"X-Forwarded-For": self.ip, "Connection": "close"}
        if cookie:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        if access:
            headers["Authorization"] = f"Bearer {access}"
        return requests.post(f"{url}{path}", json=body or {}, headers=headers, timeout=60)

    def me(self, url: str, access: str) -> int:
        headers = {"X-Forwarded-For": self.ip, "Authorization": f"Bearer {access}"}
        return requests.get(f"{url}/api/users/me", headers=headers, timeout=60).status_code

    def register(self, env: dict[str, str]) -> str:
        email = f"{uuid.uuid4().hex}@example.com"
        live.create_user(env, email, PASSWORD)
        return email

    def login(self, url: str, email: str) -> tuple[str, str]:
        response = self.post(url, "/api/auth/login", body={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()["access_token"], response.cookies[COOKIE]

    def refresh(self, url: str, cookie: str) -> requests.Response:
        return self.post(url, "/api/auth/refresh", cookie=cookie)


def refused(response: requests.Response) -> bool:
    return response.status_code == 401 and response.json() == {"detail": REFRESH_TOKEN_INVALID}


def test_the_reuse_interval_holds_across_instances(instances):
    a, b, c = instances
    device = Client()
    access, first = device.login(a, device.register(instances.env))

    # One cookie refreshed at once on all three instances: one successor for all.
    barrier = threading.Barrier(9)

    def one(i):
        barrier.wait(timeout=30)
        return device.refresh(instances[i % 3], first)

    with ThreadPoolExecutor(9) as pool:
        responses = list(pool.map(one, range(9)))
    rotated = time.monotonic()
    assert [r.status_code for r in responses] == [200] * 9
    successors = {r.cookies[COOKIE] for r in responses}
    assert len(successors) == 1
    (successor,) = successors

    # The predecessor again on another instance, inside the interval: the same cookie.
    retry = device.refresh(b, first)
    assert retry.status_code == 200
    assert retry.cookies[COOKIE] == successor
    new_access = retry.json()["access_token"]

    # After the interval it is a replay, seen on C: the session is revoked everywhere.
    time.sleep(max(0.0, rotated + REUSE_INTERVAL + 0.5 - time.monotonic()))
    assert refused(device.refresh(c, first))
    assert refused(device.refresh(a, successor))
    assert device.me(b, new_access) == 401
    assert device.me(c, access) == 401


def test_rate_limits_are_shared_by_the_instances(instances):
    device = Client()
    email = f"{uuid.uuid4().hex}@example.com"
    body = {"email": email, "password": "wrong"}

    # The limit's worth of logins at once, spread over the three instances.
    with ThreadPoolExecutor(LOGIN_LIMIT) as pool:
        calls = [
            pool.submit(device.post, instances[i % 3], "/api/auth/login", body=body)
            for i in range(LOGIN_LIMIT)
        ]
        statuses = [call.result().status_code for call in calls]
    assert statuses == [400] * LOGIN_LIMIT

    for url in instances:  # the next one is refused, whichever instance takes it
        over = device.post(url, "/api/auth/login", body=body)
        assert over.status_code == 429
        assert over.json() == {"detail": RATE_LIMITED}


def test_logout_on_one_instance_is_seen_by_the_next_request_to_another(instances):
    a, b, c = instances
    device = Client()
    access, cookie = device.login(a, device.register(instances.env))
    assert device.me(b, access) == 200

    assert device.post(a, "/api/auth/logout", cookie=cookie).status_code == 200

    assert device.me(b, access) == 401
    assert refused(device.refresh(c, cookie))


def test_logout_all_on_one_instance_is_seen_by_the_next_request_to_another(instances):
    a, b, c = instances
    phone, laptop = Client(), Client()
    email = phone.register(instances.env)
    phone_access, phone_cookie = phone.login(a, email)
    laptop_access, laptop_cookie = laptop.login(b, email)

    response = phone.post(c, "/api/auth/logout-all", access=phone_access)
    assert response.status_code == 200
    assert response.json()["revoked"] == 2

    assert laptop.me(a, laptop_access) == 401
    assert phone.me(b, phone_access) == 401
    assert refused(laptop.refresh(a, laptop_cookie))
    assert refused(phone.refresh(b, phone_cookie))
