"""The page and its assets over HTTP (no browser): headers, DEBUG off, gunicorn."""

import http.client
import re
from pathlib import Path

import pytest

from authsite import testing
from web import views

STATIC = Path(views.__file__).resolve().parent / "static" / "web"


@pytest.fixture
def client(client, settings):
    settings.DEBUG = False  # as under gunicorn: nothing may depend on runserver's static
    return client


def test_the_page_has_a_strict_content_security_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_the_page_has_no_inline_script_or_style(client):
    html = client.get("/").content.decode()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)
    assert scripts == [""]  # one script, from a file
    assert '<script src="/web/app.js" defer>' in html
    assert '<link rel="stylesheet" href="/web/app.css">' in html
    assert "<style" not in html
    assert " style=" not in html
    assert " on" not in re.sub(r"<!--.*?-->", "", html).lower().replace(" one", "")


def test_only_the_page_has_the_policy(client):
    assert "Content-Security-Policy" not in client.get("/api/users/me")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("app.js", "text/javascript"), ("app.css", "text/css"), ("icon.svg", "image/svg+xml")],
)
def test_assets_are_served_with_debug_off(client, name, content_type):
    response = client.get(f"/web/{name}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == (STATIC / name).read_bytes()


@pytest.mark.parametrize("name", ["app.py", "..%2Fviews.py", "index.html", "app.JS"])
def test_nothing_else_is_served_as_an_asset(client, name):
    assert client.get(f"/web/{name}").status_code == 404


def test_the_page_only_answers_get(client):
    assert client.head("/").status_code == 200
    # A form posted without the script (it never is with it) is refused, not processed.
    assert client.post("/", {"password": "x"}).status_code in (403, 405)


def test_the_script_keeps_the_token_in_memory_and_writes_text_only():
    script = (STATIC / "app.js").read_text()
    code = "\n".join(line for line in script.splitlines() if not line.strip().startswith("//"))
    for forbidden in (
        "localStorage",
        "sessionStorage",
        "document.cookie",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ):
        assert forbidden not in code, forbidden
    assert 'credentials: "same-origin"' in code
    assert '"Content-Type"] = "application/json"' in code
    assert "http://" not in code and "https://" not in code  # nothing from the internet


@pytest.mark.slow
def test_gunicorn_serves_the_page_with_debug_off(tmp_path):
    # The page needs no table, so the database is left unmigrated.
    env = testing.base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    server = testing.start_server(env, tmp_path, workers=1)
    try:
        host, port = server.url.removeprefix("http://").split(":")
        for path, content_type in [
            ("/", "text/html"),
            ("/web/app.js", "text/javascript"),
            ("/web/app.css", "text/css"),
        ]:
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                assert response.status == 200, path
                assert response.getheader("Content-Type").startswith(content_type), path
            finally:
                conn.close()
    finally:
        server.stop()


def every_error_code() -> set[str]:
    """Every code the API can answer with: tokens/errors.py's names and its by-status codes."""
    from tokens import errors

    codes = {
        value
        for name, value in vars(errors).items()
        if name.isupper() and isinstance(value, str) and value == name
    }
    return codes | set(errors.BY_STATUS.values())


def test_the_script_has_a_sentence_for_every_error_code():
    script = (STATIC / "app.js").read_text()
    table = re.search(r"const SENTENCES = \{(.*?)\n  \};", script, re.S)
    assert table, "app.js has one table of code -> sentence, SENTENCES"
    codes = set(re.findall(r"^\s+([A-Z_]+):", table.group(1), re.M))
    assert every_error_code() - codes == set()
    assert "LOGIN_BAD_CREDENTIALS" in every_error_code()  # the names were read
