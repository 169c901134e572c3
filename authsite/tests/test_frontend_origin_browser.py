"""A single-page app on its own origin, in real Chromium, as docs/api.md's "A frontend on
another origin" tells it to be set up: CORS_ALLOWED_ORIGINS names the app's origin and
every call says ``credentials: "include"``.

The app is a page served by a second local server. On the same site as the API
(``localhost``, another port) the whole cycle works: login, a refresh after a reload,
the session list, logout. From another site (``127.0.0.1`` calling ``localhost``) the
login answers 200 but the browser drops its cookie, so the first refresh is
``401 REFRESH_TOKEN_MISSING``: the failure the guide describes.
"""

import functools
import http.server
import threading

import pytest

from authsite import testing

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def app_port(tmp_path_factory):
    """The app's own server (any page will do: the calls are the page's scripts)."""
    folder = tmp_path_factory.mktemp("app")
    (folder / "index.html").write_text("<!doctype html><title>The app</title><h1>The app</h1>")
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", testing.free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def api(live_database, live_workdir, app_port) -> str:
    """The API at http://localhost:PORT, trusting the app on both of its names."""
    env = testing.base_env(
        DATABASE_URL=live_database.url(),
        CORS_ALLOWED_ORIGINS=f"http://localhost:{app_port},http://127.0.0.1:{app_port}",
        RATE_LIMIT_LOGIN="1000/m",
    )
    server = testing.start_server(env, live_workdir)
    yield server.url.replace("127.0.0.1", "localhost")
    server.stop()


@pytest.fixture
def open_app(browser):
    contexts = []

    def open_at(url: str):
        context = browser.new_context()
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        return page

    yield open_at
    for context in contexts:
        context.close()


# The app's calls, each as a frontend makes them: JSON, credentials: "include".
CALL = """async ([api, method, path, token, body]) => {
    const headers = {};
    if (token) headers["Authorization"] = `Bearer ${token}`;
    if (body) headers["Content-Type"] = "application/json";
    const response = await fetch(api + path, {
        method, headers, credentials: "include", body: body && JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
}"""


def call(page, api: str, method: str, path: str, *, token: str = "", body=None) -> dict:
    return page.evaluate(CALL, [api, method, path, token, body])


def test_an_app_on_the_same_site_logs_in_refreshes_lists_and_logs_out(open_app, app_port, api):
    page = open_app(f"http://localhost:{app_port}/")
    account = {"email": "sam@example.com", "password": PASSWORD}
    assert call(page, api, "POST", "/api/auth/register", body=account)["status"] == 201
    login = call(page, api, "POST", "/api/auth/login", body=account)
    assert login["status"] == 200, login

    # A reload loses the access token (memory only); the cookie brings it back.
    page.reload()
    refreshed = call(page, api, "POST", "/api/auth/refresh")
    assert refreshed["status"] == 200, refreshed
    token = refreshed["body"]["access_token"]

    sessions = call(page, api, "GET", "/api/auth/sessions", token=token)
    assert sessions["status"] == 200
    assert [session["current"] for session in sessions["body"]] == [True]

    assert call(page, api, "POST", "/api/auth/logout")["status"] == 200
    after = call(page, api, "POST", "/api/auth/refresh")
    assert after == {"status": 401, "body": {"detail": "REFRESH_TOKEN_MISSING"}}


def test_an_app_on_another_site_loses_the_cookie(open_app, app_port, api):
    page = open_app(f"http://127.0.0.1:{app_port}/")
    account = {"email": "kim@example.com", "password": PASSWORD}
    assert call(page, api, "POST", "/api/auth/register", body=account)["status"] == 201
    login = call(page, api, "POST", "/api/auth/login", body=account)
    assert login["status"] == 200, login  # CORS allowed it, and the login happened ...

    # ... but Chromium refused the SameSite=Lax cookie of a cross-site response.
    assert page.context.cookies() == []
    refreshed = call(page, api, "POST", "/api/auth/refresh")
    assert refreshed == {"status": 401, "body": {"detail": "REFRESH_TOKEN_MISSING"}}
