"""Two gunicorn workers share one rate limit through Redis.

With the counters in one process's memory, N workers would allow N times the limit.
Through Redis the (limit+1)-th login is refused whichever worker takes it.
"""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tokens.errors import RATE_LIMITED
from tokens.tests import live

pytestmark = pytest.mark.slow

LIMIT = 5
ROUNDS = 20
LOG_WAIT_SECONDS = 10


@pytest.fixture(scope="module")
def two_workers(live_workdir):
    live.skip_or_fail_without_redis()  # before starting anything (module scope runs first)
    sqlite = live.LiveDatabase(workdir=live_workdir)  # the workers' database is incidental
    env = live.base_env(
        DATABASE_URL=sqlite.url(),
        REDIS_URL=live.REDIS_TEST_URL,
        # Per hour: a fixed minute window could close in the middle of a round.
        RATE_LIMIT_LOGIN=f"{LIMIT}/h",
        # Each round is its own client behind one trusted proxy: fresh counters per
        # round without touching anybody else's keys in the shared Redis.
        TRUSTED_PROXY_COUNT="1",
    )
    server = live.start_server(env, live_workdir, workers=2)
    yield server
    server.stop()


def login(url: str, client_ip: str, email: str) -> requests.Response:
    # A new connection per request (no Session, Connection: close), so the kernel
    # hands each one to whichever worker accepts first.
    return requests.post(
        f"{url}/api/auth/login",
        json={"email": email, "password": "wrong"},
        headers={"X-Forwarded-For": client_ip, "Connection": "close"},
        timeout=30,
    )


def workers_of(server: live.Server, client_ip: str, count: int) -> list[str]:
    """The pid of the worker that served each of this client's ``count`` requests.

    A worker logs a request just after answering it, so the last line may lag.
    """
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while True:
        lines = server.access_log.read_text().splitlines()
        workers = [line.split()[0] for line in lines if line.endswith(f" {client_ip}")]
        if len(workers) >= count or time.monotonic() > deadline:
            return workers
        time.sleep(0.05)  # polling another process's log file


@pytest.mark.redis
def test_the_limit_is_shared_by_two_workers(two_workers):
    refused_by: set[str] = set()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(ROUNDS):
            client_ip = ".".join(str(b) for b in [10, *uuid.uuid4().bytes[:3]])
            email = f"{uuid.uuid4().hex}@example.com"
            # The first `limit` logins two at a time: while one worker hashes the
            # password, the other accepts, so both workers count some of them.
            statuses = []
            for start in range(0, LIMIT, 2):
                batch = range(start, min(start + 2, LIMIT))
                calls = [pool.submit(login, two_workers.url, client_ip, email) for _ in batch]
                statuses += [call.result().status_code for call in calls]
            assert statuses == [400] * LIMIT
            last = login(two_workers.url, client_ip, email)
            assert last.status_code == 429
            assert last.json() == {"detail": RATE_LIMITED}
            assert int(last.headers["Retry-After"]) >= 1

            workers = workers_of(two_workers, client_ip, LIMIT + 1)
            assert len(workers) == LIMIT + 1
            if len(set(workers)) == 2:  # a round one worker served alone proves nothing
                refused_by.add(workers[-1])
            if len(refused_by) == 2:
                break
    # Each worker has refused a (limit+1)-th login in a round where it had seen only
    # some of the first `limit`: the count it refused on was the shared one.
    assert len(refused_by) == 2, refused_by
