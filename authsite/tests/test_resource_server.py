"""Another service trusts our tokens: examples/resource_server, live, next to our server.

Both run under gunicorn. The example verifies tokens itself with our JWKS (simplejwt's
JWK_URL) on one endpoint and asks our introspection on another. Our server is
restarted with a new signing key mid-test; the example never is.
"""

import base64
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from authsite import testing
from tokens import signing
from tokens.tests import live
from tokens.tests.dpop_keys import DpopKey

pytestmark = pytest.mark.slow

EXAMPLE = testing.ROOT / "examples" / "resource_server"
CLIENT_SECRET = secrets.token_urlsafe(32)
EMAIL, PASSWORD = "ada@example.com", "correct horse battery staple"


def call(url: str, method: str = "GET", body: dict | None = None, **headers: str):
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


class Deployment:
    """Our server (restartable on the same port and database) and the example."""

    def __init__(self, workdir: Path, database_url: str, cooldown: str, **variables) -> None:
        self.workdir = workdir
        self.keys = {name: self._key_file(name) for name in ("first", "second")}
        # An id of its own: a counter in a shared Redis is this deployment's alone.
        self.client_id = f"billing-{secrets.token_hex(4)}"
        self.env = testing.base_env(
            DATABASE_URL=database_url,
            ACCESS_TOKEN_ALGORITHM="ES256",
            ACCESS_TOKEN_SIGNING_KEY_FILE=self.keys["first"],
            INTROSPECTION_CLIENTS=f"{self.client_id}:{CLIENT_SECRET}",
            RATE_LIMIT_LOGIN="1000/m",
            **variables,
        )
        self.ours = testing.start_server(self.env, workdir)
        self.theirs = self._start_example(cooldown)

    def _key_file(self, name: str) -> str:
        path = self.workdir / f"{name}.pem"
        path.write_text(signing.generate_private_key("ES256"))
        return str(path)

    def restart_ours(self, **variables: str) -> None:
        """Stop our server and start it again with these variables, on the same port."""
        port = int(self.ours.url.rsplit(":", 1)[1])
        self.ours.stop()
        self.env = {**self.env, **variables}
        self.ours = testing.start_server(self.env, self.workdir, port=port)

    def _start_example(self, cooldown: str) -> testing.Server:
        port = testing.free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST_", "DJANGO_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="resource_server.settings",
            AUTH_SERVER_URL=self.ours.url,
            ACCESS_TOKEN_ALGORITHM="ES256",
            INTROSPECTION_CLIENT_ID=self.client_id,
            INTROSPECTION_CLIENT_SECRET=CLIENT_SECRET,
            JWKS_REFRESH_COOLDOWN=cooldown,
        )
        error_log = self.workdir / f"example-{port}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--chdir",
                str(EXAMPLE),
                "resource_server.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--error-logfile",
                str(error_log),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = testing.Server(f"http://127.0.0.1:{port}", env, process, error_log, error_log)
        deadline = time.monotonic() + testing.STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the example exited at start-up:\n{server.errors()}")
            try:
                status, _ = call(f"{server.url}/api/whoami")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)  # polling a starting process
                continue
            assert status == 401  # up, and refusing a request without a token
            return server
        server.stop()
        raise AssertionError(f"the example did not answer:\n{server.errors()}")

    def login(self) -> str:
        status, body = call(
            f"{self.ours.url}/api/auth/login", "POST", {"email": EMAIL, "password": PASSWORD}
        )
        assert status == 200, body
        return body["access_token"]

    def whoami(self, token: str, *, introspected: bool = False) -> tuple[int, dict]:
        path = "/api/whoami/introspected" if introspected else "/api/whoami"
        return call(self.theirs.url + path, **bearer(token))

    def stop(self) -> None:
        self.theirs.stop()
        self.ours.stop()


def deployment(live_database, tmp_path, cooldown: str, **variables):
    deployed = Deployment(tmp_path, live_database.url(), cooldown, **variables)
    status, body = call(
        f"{deployed.ours.url}/api/auth/register", "POST", {"email": EMAIL, "password": PASSWORD}
    )
    assert status == 201, body
    return deployed


@pytest.fixture
def deployed(live_database, tmp_path):
    # Any unknown kid may make the example fetch the key set again at once.
    deployed = deployment(live_database, tmp_path, cooldown="0")
    yield deployed
    deployed.stop()


@pytest.fixture
def deployed_with_pyjwt_cooldown(live_database, tmp_path):
    # PyJWT's default: at most one fetch per 30 s for unknown kids.
    deployed = deployment(live_database, tmp_path, cooldown="30")
    yield deployed
    deployed.stop()


def kid_of(token: str) -> str:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]


def tampered(token: str) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["user_id"] = "00000000-0000-0000-0000-000000000000"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{signature}"


def test_the_example_verifies_our_tokens_with_the_jwks_alone(deployed):
    token = deployed.login()
    status, body = deployed.whoami(token)
    assert status == 200, body
    assert body["via"] == "jwks"
    me_status, me = call(f"{deployed.ours.url}/api/users/me", **bearer(token))
    assert me_status == 200 and body["user_id"] == me["id"]

    assert deployed.whoami(tampered(token))[0] == 401
    assert deployed.whoami(token[:-4] + "AAAA")[0] == 401  # a broken signature


def test_a_key_rotation_needs_no_restart_of_the_example(deployed):
    old = deployed.login()
    assert deployed.whoami(old)[0] == 200  # the example has fetched the key set

    # The new key signs, the old one only verifies (docs/access-tokens.md, "Rotating the
    # signing key").
    deployed.restart_ours(
        ACCESS_TOKEN_SIGNING_KEY_FILE=deployed.keys["second"],
        ACCESS_TOKEN_VERIFYING_KEY_FILES=deployed.keys["first"],
    )
    new = deployed.login()
    assert kid_of(new) != kid_of(old)
    status, body = deployed.whoami(new)  # an unknown kid: the example fetches again
    assert status == 200, body
    assert deployed.whoami(old)[0] == 200  # tokens of the old key live out their lifetime
    status, jwks = call(f"{deployed.ours.url}/.well-known/jwks.json")
    assert [key["kid"] for key in jwks["keys"]] == [kid_of(new), kid_of(old)]
    # Our own API takes both too.
    for token in (old, new):
        assert call(f"{deployed.ours.url}/api/users/me", **bearer(token))[0] == 200


def test_a_key_that_signs_before_it_is_published_is_refused_for_a_while(
    deployed_with_pyjwt_cooldown,
):
    """Why the rotation publishes the next key first: with PyJWT's default cooldown, a
    resource server that has just fetched the key set does not fetch it again for a
    new kid for 30 s, and refuses the new tokens meanwhile."""
    deployed = deployed_with_pyjwt_cooldown
    old = deployed.login()
    assert deployed.whoami(old)[0] == 200
    deployed.restart_ours(
        ACCESS_TOKEN_SIGNING_KEY_FILE=deployed.keys["second"],
        ACCESS_TOKEN_VERIFYING_KEY_FILES=deployed.keys["first"],
    )
    assert deployed.whoami(deployed.login())[0] == 401
    assert deployed.whoami(old)[0] == 200


def test_introspection_sees_a_logout_within_one_request(deployed):
    token = deployed.login()
    status, body = deployed.whoami(token, introspected=True)
    assert status == 200, body
    assert body["via"] == "introspection"
    assert body["user_id"] == deployed.whoami(token)[1]["user_id"]
    assert deployed.whoami(tampered(token), introspected=True)[0] == 401

    assert call(f"{deployed.ours.url}/api/auth/logout", "POST", **bearer(token))[0] == 200
    assert deployed.whoami(token, introspected=True)[0] == 401  # the very next request
    # Verified locally, the token still passes until it expires: the price of not asking.
    assert deployed.whoami(token)[0] == 200


@pytest.fixture
def deployed_with_a_small_budget(live_database, tmp_path):
    live.skip_or_fail_without_redis()
    deployed = deployment(
        live_database,
        tmp_path,
        cooldown="30",
        REDIS_URL=live.REDIS_TEST_URL,
        # Per hour: no window closes in the middle of the test.
        RATE_LIMIT_INTROSPECTION=f"{SMALL_BUDGET}/h",
    )
    yield deployed
    deployed.stop()


SMALL_BUDGET = 20


@pytest.mark.redis
def test_strangers_cannot_spend_the_examples_introspection_budget(deployed_with_a_small_budget):
    """The example checks a token's signature with the JWKS before it introspects: made-up
    and forged tokens never reach our introspection, so they spend none of the budget
    its real users' requests need (issue 14: 610 requests of "Bearer x" shut it)."""
    deployed = deployed_with_a_small_budget
    token = deployed.login()
    forged = [f"x{n}" for n in range(SMALL_BUDGET)] + [tampered(token)] * SMALL_BUDGET
    for made_up in forged:
        assert deployed.whoami(made_up, introspected=True)[0] == 401
    status, body = deployed.whoami(token, introspected=True)
    assert status == 200, body
    assert body["via"] == "introspection"


def test_the_example_enforces_the_proof_of_a_bound_token(deployed):
    """RFC 9449 section 7 at the other service: a token bound to the client's key works
    there only with a proof by that key for that service's own URL."""
    key = DpopKey()
    login = f"{deployed.ours.url}/api/auth/login"
    status, body = call(
        login, "POST", {"email": EMAIL, "password": PASSWORD}, DPoP=key.proof("POST", login)
    )
    assert status == 200 and body["token_type"] == "DPoP", body
    token = body["access_token"]
    for path in ("/api/whoami", "/api/whoami/introspected"):
        url = deployed.theirs.url + path
        proof = key.proof("GET", url, token)
        status, body = call(url, Authorization=f"DPoP {token}", DPoP=proof)
        assert status == 200, body
        assert call(url, Authorization=f"DPoP {token}", DPoP=proof)[0] == 401  # replayed
        assert call(url, **bearer(token))[0] == 401  # the token alone
        other = DpopKey().proof("GET", url, token)
        assert call(url, Authorization=f"DPoP {token}", DPoP=other)[0] == 401
        ours = key.proof("GET", f"{deployed.ours.url}/api/users/me", token)
        assert call(url, Authorization=f"DPoP {token}", DPoP=ours)[0] == 401  # another URL
        stale = key.proof("GET", url, token, iat=int(time.time()) - 600)
        assert call(url, Authorization=f"DPoP {token}", DPoP=stale)[0] == 401
    # and a bearer token as DPoP is refused
    plain = deployed.login()
    url = deployed.theirs.url + "/api/whoami"
    assert call(url, Authorization=f"DPoP {plain}", DPoP=key.proof("GET", url, plain))[0] == 401
