"""Behind a trusted proxy that writes the client's port into X-Forwarded-For
(``203.0.113.5:41000``, ``[2001:db8::1]:443``), each client keeps a rate-limit bucket of
its own, and no spelling of the header is a 500: a live gunicorn server."""

import uuid

import pytest
import requests

from tokens.errors import RATE_LIMITED
from tokens.tests import live

pytestmark = pytest.mark.slow

LIMIT = 2


@pytest.fixture(scope="module")
def behind_a_proxy(live_database, live_workdir):
    env = live.base_env(
        DATABASE_URL=live_database.url(),
        TRUSTED_PROXY_COUNT="1",
        RATE_LIMIT_LOGIN=f"{LIMIT}/h",
    )
    server = live.start_server(env, live_workdir)
    yield server
    server.stop()


def login(server: live.Server, forwarded_for: str) -> requests.Response:
    # A new account each time: only the client's IP budget is spent.
    return requests.post(
        f"{server.url}/api/auth/login",
        json={"username": f"{uuid.uuid4().hex}", "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )


def test_clients_with_ports_do_not_share_the_proxys_bucket(behind_a_proxy):
    first, second = "203.0.113.5:41000", "[2001:db8:5::1]:443"
    assert [login(behind_a_proxy, first).status_code for _ in range(LIMIT)] == [400] * LIMIT
    refused = login(behind_a_proxy, first)
    assert refused.status_code == 429
    assert refused.json() == {"detail": RATE_LIMITED}
    # Another client behind the same proxy: its own budget, not the proxy's address's.
    assert login(behind_a_proxy, second).status_code == 400
    assert login(behind_a_proxy, "203.0.113.5:52000").status_code == 429  # same client


@pytest.mark.parametrize("forwarded_for", ["[" * 4000, "1.2.3.4:99999", "[::1", "a:b:c:d:e"])
def test_no_spelling_of_the_header_is_a_500(behind_a_proxy, forwarded_for):
    response = login(behind_a_proxy, forwarded_for)
    assert response.status_code in (400, 429), response.text
    assert response.headers["Content-Type"].startswith("application/json")
