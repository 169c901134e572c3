"""DPoP over real HTTP: two gunicorn workers sharing Redis agree on every proof's jti.

With the jti kept in one worker's memory, a proof replayed to the other worker would
pass. Each round sends one proof twice at once; exactly one request is served, and
rounds where the two workers each took one show the refusal came from the shared store.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tokens.errors import DPOP_PROOF_REPLAYED
from tokens.tests import live
from tokens.tests.dpop_keys import DpopKey
from tokens.tests.test_redis_workers import workers_of

PASSWORD = "correct horse battery staple"
ROUNDS = 30

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(live_database, live_workdir):
    live.skip_or_fail_without_redis()
    env = live.base_env(DATABASE_URL=live_database.url(), REDIS_URL=live.REDIS_TEST_URL)
    server = live.start_server(env, live_workdir, workers=2)
    yield server
    server.stop()


@pytest.fixture
def bound(server):
    """A session bound to a fresh key: (key, access token, the client with its cookie)."""
    name = f"dpop-{uuid.uuid4().hex[:12]}"
    live.create_user(server.env, name, PASSWORD)
    key, client = DpopKey(), requests.Session()
    url = f"{server.url}/api/auth/login"
    response = client.post(
        url,
        json={"email": name, "password": PASSWORD},
        headers={"DPoP": key.proof("POST", url)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    return key, response.json()["access_token"], client


def call(url: str, token: str, proof: str, tag: str) -> requests.Response:
    # A new connection each (Connection: close), so either worker may accept it; the
    # tag goes to the access log, which names the worker.
    return requests.get(
        url,
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": proof,
            "X-Forwarded-For": tag,
            "Connection": "close",
        },
        timeout=30,
    )


def test_a_proof_is_used_once_whichever_worker_takes_it(server, bound):
    key, token, _ = bound
    url = f"{server.url}/api/auth/sessions"
    across_workers = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(ROUNDS):
            proof = key.proof("GET", url, token)
            tag = ".".join(str(b) for b in [10, *uuid.uuid4().bytes[:3]])
            calls = [pool.submit(call, url, token, proof, tag) for _ in range(2)]
            responses = [c.result() for c in calls]
            assert sorted(r.status_code for r in responses) == [200, 401]
            [refused] = [r for r in responses if r.status_code == 401]
            assert refused.json() == {"detail": DPOP_PROOF_REPLAYED}
            assert refused.headers["WWW-Authenticate"].startswith("DPoP ")
            if len(set(workers_of(server, tag, 2))) == 2:
                across_workers += 1
    # The refusal came from the other worker in some rounds: the store is shared.
    assert across_workers > 0


def test_the_refresh_cookie_alone_is_worth_nothing(server, bound):
    """The owner's cookie copied into another client, with or without a key of its own."""
    key, _, owner = bound
    url = f"{server.url}/api/auth/refresh"
    thief = requests.Session()
    thief.cookies.update(owner.cookies)
    response = thief.post(url, timeout=30)
    assert (response.status_code, response.json()) == (401, {"detail": "DPOP_PROOF_REQUIRED"})
    response = owner.post(url, headers={"DPoP": key.proof("POST", url)}, timeout=30)
    assert response.status_code == 200  # the owner's next proof still works
    thief.cookies.update(owner.cookies)
    response = thief.post(url, headers={"DPoP": DpopKey().proof("POST", url)}, timeout=30)
    assert (response.status_code, response.json()) == (401, {"detail": "REFRESH_TOKEN_INVALID"})
    response = owner.post(url, headers={"DPoP": key.proof("POST", url)}, timeout=30)
    assert response.status_code == 401  # revoked: the copy was a theft
