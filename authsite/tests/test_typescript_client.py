"""The OpenAPI document as a frontend's tools read it (examples/typescript-client).

The document a deployment publishes (``manage.py spectacular``) passes
openapi-spec-validator and Redocly's lint under the rule set of
examples/typescript-client/openapi-lint.yaml, and the types openapi-typescript generates
from it check the typed client (openapi-fetch: login, refresh, me, sessions, revoke,
logout) with ``tsc --strict``. Compiled, the same client then runs in Chromium, on a page
of another origin of the API's site, against a live server. The npm tools skip without
Node, and fail when REQUIRE_NODE=1 (CI); Chromium likewise with REQUIRE_BROWSER=1.
"""

import functools
import http.server
import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate

from authsite import testing
from authsite.tests.interop import node

pytestmark = pytest.mark.slow  # npm ci, Node's tools, a live server, Chromium

EXAMPLE = testing.ROOT / "examples" / "typescript-client"
# A deployment's public URL: the document's `servers` entry. (Redocly's recommended rules
# refuse localhost and example.com there, the development default.)
PUBLIC_URL = "https://auth.authsite.test"
RUN_SECONDS = 120


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> Path:
    """The OpenAPI document as ``manage.py spectacular`` dumps it for a deployment."""
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    env = testing.base_env(PUBLIC_URL=PUBLIC_URL)
    testing.manage(env, "spectacular", "--format", "openapi-json", "--file", str(path))
    return path


@pytest.fixture(scope="module")
def npm_tools() -> Path:
    """examples/typescript-client's node_modules/.bin, installed from its lockfile."""
    node.require_node(EXAMPLE)
    return EXAMPLE / "node_modules" / ".bin"


def run(*command: str | Path, cwd: Path = EXAMPLE) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )


def test_openapi_spec_validator_accepts_the_document(document):
    schema = json.loads(document.read_text())
    validate(schema)
    assert schema["servers"] == [{"url": PUBLIC_URL}]
    assert schema["info"]["license"]["name"] == "MIT"


def test_redocly_lint_passes_under_the_chosen_rules(npm_tools, document):
    result = run(npm_tools / "redocly", "lint", "--config", "openapi-lint.yaml", document)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Your API description is valid" in result.stdout + result.stderr


def client_with_fresh_types(npm_tools: Path, document: Path, folder: Path) -> Path:
    """A copy of the client in ``folder`` beside an api.d.ts generated from ``document``,
    with the example's packages: concurrent runs never share a generated file."""
    shutil.copytree(EXAMPLE / "src", folder / "src", ignore=shutil.ignore_patterns("api.d.ts"))
    shutil.copy(EXAMPLE / "tsconfig.json", folder)
    (folder / "node_modules").symlink_to(EXAMPLE / "node_modules")
    generated = run(
        npm_tools / "openapi-typescript", document, "--output", folder / "src" / "api.d.ts"
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return folder / "tsconfig.json"


def test_the_generated_types_check_the_typed_client_under_strict(npm_tools, document, tmp_path):
    tsconfig = client_with_fresh_types(npm_tools, document, tmp_path)
    assert json.loads(tsconfig.read_text())["compilerOptions"]["strict"] is True
    checked = run(npm_tools / "tsc", "--project", tsconfig, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# The compiled client in a page: its one dependency, openapi-fetch, by an import map.
PAGE = """<!doctype html><title>The app</title>
<script type="importmap">
{"imports": {"openapi-fetch": "/node_modules/openapi-fetch/dist/index.mjs"}}
</script>
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def app(npm_tools, document, tmp_path_factory):
    """The compiled client and its page, served on a port of their own; the port."""
    folder = tmp_path_factory.mktemp("typed-app")
    tsconfig = client_with_fresh_types(npm_tools, document, folder)
    built = run(
        npm_tools / "tsc", "--project", tsconfig, "--noEmit", "false", "--outDir", folder / "build"
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (folder / "index.html").write_text(PAGE)
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", testing.free_port()), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def api(live_database, live_workdir, app):
    env = testing.base_env(
        DATABASE_URL=live_database.url(),
        CORS_ALLOWED_ORIGINS=f"http://localhost:{app}",
        RATE_LIMIT_LOGIN="1000/m",
    )
    server = testing.start_server(env, live_workdir)
    yield server.url
    server.stop()


# login, refresh, me, sessions, revoke, logout: each step's answer as the client saw it.
RUN_THE_CLIENT = """async ([api, email, password]) => {
    const { authClient, describe, SignedOut } = await import("/build/client.js");
    const client = authClient(api);
    await client.login(email, password);
    const expiresIn = await client.refresh();
    const me = await client.me();
    const sessions = await client.sessions();
    const described = sessions.map(describe);
    await client.revoke(sessions.find((session) => !session.current));
    const left = (await client.sessions()).length;
    const message = await client.logout();
    let refused = null;
    try {
        await client.refresh();
    } catch (error) {
        refused = error instanceof SignedOut ? error.code : String(error);
    }
    return { expiresIn, email: me.email, described, left, message, refused };
}"""


@pytest.mark.browser
def test_the_typed_client_runs_in_chromium_on_another_origin_of_the_site(browser, app, api):
    email, password = "ts@example.com", "correct horse battery staple"
    account = {"email": email, "password": password}
    assert requests.post(f"{api}/api/auth/register", json=account, timeout=30).status_code == 201
    # Another device's session, for the client to revoke.
    assert requests.post(f"{api}/api/auth/login", json=account, timeout=30).status_code == 200

    context = browser.new_context()
    try:
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.goto(f"http://localhost:{app}/index.html")
        api_on_the_site = api.replace("127.0.0.1", "localhost")
        outcome = page.evaluate(RUN_THE_CLIENT, [api_on_the_site, email, password])
    finally:
        context.close()
    assert outcome["expiresIn"] > 0
    assert outcome["email"] == email
    assert len(outcome["described"]) == 2
    assert any("(this device)" in line for line in outcome["described"]), outcome
    assert outcome["left"] == 1
    assert outcome["message"] == "Successfully logged out"
    assert outcome["refused"] == "REFRESH_TOKEN_MISSING"
