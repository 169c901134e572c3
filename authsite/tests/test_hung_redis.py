"""A hung Redis (it accepts connections and never answers) costs a rate-limited request
a fraction of a second, not every worker's time: 503 JSON at once, a live server whose
REDIS_URL points at a listener that accepts and never answers."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from authsite import testing
from tokens.errors import SERVICE_UNAVAILABLE
from tokens.tests.tcp_proxy import HungListener

pytestmark = pytest.mark.slow

# The project's settings (REDIS_URL, its cache OPTIONS), not the tokens app alone.

WORKERS = 2
REQUESTS = 8  # four per worker, one after the other on each
# Generous for a loaded machine, far below redis-py's 5 s default socket timeout that a
# hung Redis cost each request before.
EACH_WITHIN_SECONDS = 3.0


@pytest.fixture(scope="module")
def hung_redis_server(live_database, live_workdir):
    with HungListener() as hung:
        env = testing.base_env(
            DATABASE_URL=live_database.url(), REDIS_URL=f"redis://127.0.0.1:{hung.port}/0"
        )
        server = testing.start_server(env, live_workdir, workers=WORKERS)
        try:
            yield server
        finally:
            server.stop()


def timed_login(url: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.post(
        f"{url}/api/auth/login",
        json={"email": "alice@example.com", "password": "whatever it is"},
        headers={"Connection": "close"},
        timeout=60,
    )
    return response, time.monotonic() - started


def test_a_hung_redis_answers_503_json_fast(hung_redis_server):
    # One at a time first: each refusal is fast, not only the sum.
    for _ in range(2):
        response, seconds = timed_login(hung_redis_server.url)
        assert response.status_code == 503, response.text
        assert response.json() == {"detail": SERVICE_UNAVAILABLE}
        assert seconds < EACH_WITHIN_SECONDS, seconds
    # Then more requests at once than workers: they queue, and the queue drains fast.
    started = time.monotonic()
    with ThreadPoolExecutor(REQUESTS) as pool:
        results = list(pool.map(timed_login, [hung_redis_server.url] * REQUESTS))
    assert [r.status_code for r, _ in results] == [503] * REQUESTS
    assert all(r.json() == {"detail": SERVICE_UNAVAILABLE} for r, _ in results)
    per_worker = REQUESTS / WORKERS
    assert time.monotonic() - started < per_worker * EACH_WITHIN_SECONDS
    assert "Traceback" not in hung_redis_server.errors()
