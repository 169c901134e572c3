"""What a page on another origin may read, in real Chromium: the JWKS (public keys, any
origin, fetched by jose's browser build) and, for an allowed origin, a 429's Retry-After.

The page's origin is a second local server (another port: another origin) that serves
this folder, so the page can import jose from node_modules.
"""

import functools
import http.server
import threading

import pytest
import requests

from authsite import testing
from authsite.tests.interop import node as node_clients
from authsite.tests.interop.conftest import register_and_login
from tokens import signing

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JOSE = "/node_modules/jose/dist/webapi/index.js"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def page_origin():
    """A server of this folder on its own port: the origin of the page under test."""
    node_clients.require_node()  # jose's browser build comes from node_modules
    handler = functools.partial(QuietHandler, directory=str(node_clients.INTEROP))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", testing.free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def server(live_database, live_workdir, page_origin):
    env = testing.base_env(
        DATABASE_URL=live_database.url(),
        ACCESS_TOKEN_ALGORITHM="ES256",
        ACCESS_TOKEN_SIGNING_KEY=signing.generate_private_key("ES256"),
        CORS_ALLOWED_ORIGINS=page_origin,
        RATE_LIMIT_LOGIN="1000/m",
        # The page's third refresh is refused (per hour: no window closes mid-test).
        RATE_LIMIT_DEFAULT="2/h",
    )
    server = testing.start_server(env, live_workdir)
    yield server
    server.stop()


@pytest.fixture
def page(browser, page_origin):
    context = browser.new_context()
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{page_origin}/")  # any document of that origin
    yield page
    context.close()


def test_a_page_on_any_origin_verifies_a_token_with_jose_and_our_jwks(page, server):
    access = register_and_login(server.url)["access_token"]
    outcome = page.evaluate(
        """async ([jose, jwksUrl, token]) => {
            const { createRemoteJWKSet, jwtVerify } = await import(jose);
            try {
                const keys = createRemoteJWKSet(new URL(jwksUrl));
                const { payload } = await jwtVerify(token, keys, { algorithms: ["ES256"] });
                return { sid: payload.sid };
            } catch (error) {
                return { error: `${error.name}: ${error.message}` };
            }
        }""",
        [JOSE, f"{server.url}/.well-known/jwks.json", access],
    )
    assert "error" not in outcome, outcome
    assert outcome["sid"]
    jwks = requests.get(f"{server.url}/.well-known/jwks.json", timeout=30)
    assert jwks.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in jwks.headers  # public, no cookies


def test_a_page_on_an_allowed_origin_reads_retry_after(page, server):
    statuses = page.evaluate(
        """async (url) => {
            const answers = [];
            for (let i = 0; i < 3; i++) {
                const response = await fetch(url, { method: "POST", credentials: "include" });
                answers.push([response.status, response.headers.get("Retry-After")]);
            }
            return answers;
        }""",
        f"{server.url}/api/auth/refresh",
    )
    assert [status for status, _ in statuses] == [401, 401, 429]
    retry_after = statuses[-1][1]
    assert retry_after is not None, "Retry-After is not exposed to the page"
    assert int(retry_after) >= 1
