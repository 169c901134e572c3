"""The production server's configuration (authsite/gunicorn.conf.py), as gunicorn runs it.

One gunicorn process with DEBUG off, started through authsite.testing (which uses the
configuration file), with a URLconf that also has a view that raises.
"""

import json
import urllib.error
import urllib.request

import pytest

from authsite import testing

pytestmark = pytest.mark.slow

COOKIE_BYTES = 8 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gunicorn-conf")
    env = testing.base_env(
        DJANGO_SETTINGS_MODULE="authsite.tests.settings_for_errors",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
    )
    testing.manage(env, "migrate", "--noinput")
    server = testing.start_server(env, workdir)
    yield server
    server.stop()


def fetch(server, path: str, method: str = "GET", **headers: str):
    request = urllib.request.Request(server.url + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_an_unhandled_exception_with_debug_off_reaches_the_error_log(server):
    status, _headers, body = fetch(server, "/api/broken-plain")
    assert status == 500
    assert json.loads(body) == {"detail": "SERVER_ERROR"}
    log = server.errors()
    # The traceback, with the exception, not only an email to ADMINS (nobody, here).
    assert "Internal Server Error: /api/broken-plain" in log, log
    assert "RuntimeError: a bug in a plain Django view" in log, log


@pytest.mark.parametrize("path", ["/api/auth/refresh", "/api/users/me"])
def test_an_8_kb_cookie_reaches_django_and_gets_a_json_4xx(server, path):
    cookie = "refresh_token=" + "a" * COOKIE_BYTES
    method = "POST" if path.endswith("refresh") else "GET"
    status, headers, body = fetch(server, path, method, Cookie=cookie)
    assert status == 401, body[:200]
    assert headers["Content-Type"].startswith("application/json"), body[:200]
    assert "detail" in json.loads(body)


@pytest.mark.parametrize(
    "variable,value",
    [
        # Each stops manage.py through a system check of the tokens app (tokens/checks.py).
        ("REFRESH_TOKEN_COOKIE_SAMESITE", "none"),  # SameSite=None without Secure
        ("REFRESH_TOKEN_COOKIE_NAME", "__Host-refresh"),
    ],
)
def test_gunicorn_refuses_to_serve_a_misconfiguration_naming_it(tmp_path, variable, value):
    env = testing.base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **{variable: value})
    with pytest.raises(AssertionError, match="gunicorn exited at start-up") as refused:
        testing.start_server(env, tmp_path).stop()
    assert variable in str(refused.value)
