"""Introspection's rate limits against a live server: two workers, counters in Redis.

A service spends its own budget (its client id), whatever address it calls from;
attempts that do not authenticate spend their address's, and an address over that
budget is refused before its credentials are checked.
"""

import secrets
import uuid

import pytest
import requests

from authsite import testing
from tokens.errors import RATE_LIMITED
from tokens.tests import live

pytestmark = [pytest.mark.redis, pytest.mark.slow]

LIMIT = 5
# Ids of this run's own: the counters in the shared Redis are keyed by them.
BILLING, REPORTS, AUDIT = (f"{name}-{secrets.token_hex(4)}" for name in ("b", "r", "a"))
SECRETS = {client_id: secrets.token_urlsafe(32) for client_id in (BILLING, REPORTS, AUDIT)}


@pytest.fixture(scope="module")
def server(live_workdir):
    live.skip_or_fail_without_redis()
    env = testing.base_env(
        DATABASE_URL=live.LiveDatabase(workdir=live_workdir).url(),  # incidental
        REDIS_URL=live.REDIS_TEST_URL,
        # Per hour: a fixed minute window could close in the middle of the test.
        RATE_LIMIT_INTROSPECTION=f"{LIMIT}/h",
        INTROSPECTION_CLIENTS=",".join(f"{id_}:{secret}" for id_, secret in SECRETS.items()),
        # Each address is made up per test behind one trusted proxy: fresh counters.
        TRUSTED_PROXY_COUNT="1",
    )
    server = testing.start_server(env, live_workdir, workers=2)
    yield server
    server.stop()


def address() -> str:
    return ".".join(str(b) for b in [10, *uuid.uuid4().bytes[:3]])


def introspect(server, ip: str, auth: tuple[str, str] | None) -> requests.Response:
    # A new connection per request: either worker may take it.
    return requests.post(
        f"{server.url}/api/auth/introspect",
        data={"token": "not-a-token"},
        auth=auth,
        headers={"X-Forwarded-For": ip, "Connection": "close"},
        timeout=30,
    )


def statuses(server, ip: str, auth, count: int) -> list[int]:
    return [introspect(server, ip, auth).status_code for _ in range(count)]


def test_a_stranger_spends_only_their_own_addresss_budget(server):
    stranger, service = address(), address()
    wrong = (BILLING, secrets.token_urlsafe(32))
    attempts = statuses(server, stranger, wrong, LIMIT - 2) + statuses(server, stranger, None, 4)
    assert attempts == [401] * LIMIT + [429] * 2
    refused = introspect(server, stranger, wrong)
    assert refused.json() == {"detail": RATE_LIMITED}
    assert int(refused.headers["Retry-After"]) >= 1
    # The right secret from that address is refused too: a right guess looks like a
    # wrong one, so guessing stays limited.
    assert introspect(server, stranger, (BILLING, SECRETS[BILLING])).status_code == 429

    # The service, from its own address, still has all of its budget.
    right = (BILLING, SECRETS[BILLING])
    assert statuses(server, service, right, LIMIT + 1) == [200] * LIMIT + [429]


def test_each_service_has_its_own_budget_whatever_its_address(server):
    shared = address()  # one NAT in front of two services
    reports, audit = (REPORTS, SECRETS[REPORTS]), (AUDIT, SECRETS[AUDIT])
    assert statuses(server, shared, reports, LIMIT + 1) == [200] * LIMIT + [429]
    assert introspect(server, address(), reports).status_code == 429  # from anywhere
    assert introspect(server, shared, audit).status_code == 200  # not held up
    # The services' answers spent none of the address's budget for failed attempts.
    assert introspect(server, shared, (AUDIT, "wrong-" + SECRETS[AUDIT])).status_code == 401
