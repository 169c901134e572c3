"""A live gunicorn bound to a dual-stack socket ([::]): IPv4 clients reach it as
``::ffff:a.b.c.d`` and must still be counted one by one, not as one IPv6 /64."""

import http.client
import json
import socket
import uuid

import pytest

from tokens.errors import RATE_LIMITED
from tokens.tests import live

pytestmark = pytest.mark.slow

LIMIT = 5


def dual_stack_unavailable_reason() -> str | None:
    """None when this machine can bind [::] and reach it over IPv4 and IPv6, else why not."""
    try:
        with socket.socket(socket.AF_INET6) as server:
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            server.bind(("::", 0))
            server.listen()
            port = server.getsockname()[1]
            for family, host in [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]:
                with socket.socket(family) as client:
                    client.settimeout(2)
                    client.connect((host, port))
    except OSError as exc:
        return f"needs a dual-stack [::] socket and ::1: {exc}"
    return None


@pytest.fixture(scope="module")
def dual_stack_server(live_workdir):
    """The port of one gunicorn worker listening on [::] with the contract's login rate."""
    reason = dual_stack_unavailable_reason()
    if reason is not None:
        live.skip_or_fail("REQUIRE_IPV6", reason)
    env = live.base_env(
        DATABASE_URL=live.LiveDatabase(workdir=live_workdir).url(),
        # Per hour: a fixed minute window could close between the LIMIT-th and the next
        # login on a loaded machine. One worker: its in-process cache is the whole count.
        RATE_LIMIT_LOGIN=f"{LIMIT}/h",
    )
    port = live.free_port()
    server = live.start_server(env, live_workdir, bind=f"[::]:{port}")
    yield port
    server.stop()


def login_from(source: str, port: int, email: str) -> tuple[int, dict]:
    """A login with a wrong password, sent to 127.0.0.1 from the loopback address ``source``."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        body = json.dumps({"email": email, "password": "wrong"})
        connection.request("POST", "/api/auth/login", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_one_ipv4_client_cannot_close_login_for_another(dual_stack_server):
    port = dual_stack_server
    # A fresh email per request: only the per-IP count is at stake.
    statuses = [
        login_from("127.0.0.2", port, f"{uuid.uuid4().hex}@example.com")[0] for _ in range(LIMIT)
    ]
    assert statuses == [400] * LIMIT
    assert login_from("127.0.0.2", port, f"{uuid.uuid4().hex}@example.com") == (
        429,
        {"detail": RATE_LIMITED},
    )
    # Another IPv4 host through the same dual-stack socket has its own budget.
    status, body = login_from("127.0.0.3", port, f"{uuid.uuid4().hex}@example.com")
    assert status == 400, body
