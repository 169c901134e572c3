"""The database going away: 503 JSON on every API endpoint, and recovery without restart."""

import pytest
import requests
from django.db import OperationalError, connection

from authsite import testing
from tokens.errors import SERVICE_UNAVAILABLE
from tokens.tests.tcp_proxy import TcpProxy

# The project (its endpoints, middleware, docs), not the tokens app alone.

PASSWORD = "a long enough passphrase"


def every_endpoint(session_id: str) -> list[tuple[str, str, dict]]:
    """(method, path, how to call it) for every API endpoint: body, bearer, cookie."""
    credentials = {"email": "alice@example.com", "password": PASSWORD}
    return [
        ("post", "/api/auth/register", {"json": {**credentials, "email": "bob@example.com"}}),
        ("post", "/api/auth/login", {"json": credentials}),
        ("post", "/api/auth/refresh", {"cookie": True}),
        ("post", "/api/auth/logout", {"cookie": True}),
        ("post", "/api/auth/logout", {"bearer": True}),
        ("post", "/api/auth/logout-all", {"bearer": True}),
        ("get", "/api/auth/sessions", {"bearer": True}),
        ("delete", f"/api/auth/sessions/{session_id}", {"bearer": True}),
        (
            "post",
            "/api/auth/change-password",
            {"bearer": True, "json": {"current_password": PASSWORD, "new_password": PASSWORD}},
        ),
        ("get", "/api/users/me", {"bearer": True}),
        ("get", "/api/health", {}),
    ]


@pytest.mark.django_db
def test_every_endpoint_answers_503_json_when_queries_fail(api, user, login, bearer, monkeypatch):
    """In-process, on either database: every query raises as if the server were gone."""
    tokens = login()
    session_id = api.get("/api/auth/sessions", **bearer(tokens)).json()[0]["id"]

    def gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(connection, "_cursor", gone)
    for method, path, how in every_endpoint(session_id):
        kwargs = {"format": "json", "data": how.get("json")}
        if how.get("bearer"):
            kwargs.update(bearer(tokens))
        if not how.get("cookie"):
            api.cookies.clear()
        else:
            api.cookies.load(tokens.cookies)
        response = getattr(api, method)(path, **kwargs)
        assert response.status_code == 503, (method, path, response.content)
        assert response.json()["detail"] == SERVICE_UNAVAILABLE, (method, path)
        assert "Set-Cookie" not in response, (method, path)  # the cookie is not lost


@pytest.fixture
def proxied_server(live_database, live_workdir):
    """A server whose database (PostgreSQL) is reached through a TcpProxy."""
    proxy = TcpProxy(
        ("127.0.0.1", int(live_database.postgres["PORT"] or 5432)), testing.free_port()
    )
    proxy.open()
    env = testing.base_env(
        DATABASE_URL=live_database.url(port=proxy.port),
        RATE_LIMIT_LOGIN="1000/m",
        RATE_LIMIT_DEFAULT="1000/m",
    )
    server = testing.start_server(env, live_workdir)
    yield server, proxy
    server.stop()
    proxy.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_database_outage_gives_503_everywhere_and_the_server_recovers(proxied_server):
    server, proxy = proxied_server
    url = server.url
    alice = {"email": "alice@example.com", "password": PASSWORD}
    assert requests.post(f"{url}/api/auth/register", json=alice, timeout=30).status_code == 201
    logged_in = requests.post(f"{url}/api/auth/login", json=alice, timeout=30)
    assert logged_in.status_code == 200
    access = logged_in.json()["access_token"]
    cookie = logged_in.cookies["refresh_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    sessions = requests.get(f"{url}/api/auth/sessions", headers=bearer, timeout=30)
    session_id = sessions.json()[0]["id"]

    def call(method: str, path: str, how: dict) -> requests.Response:
        return requests.request(
            method,
            f"{url}{path}",
            json=how.get("json"),
            headers=bearer if how.get("bearer") else {},
            cookies={"refresh_token": cookie} if how.get("cookie") else {},
            timeout=30,
        )

    proxy.close()  # PostgreSQL goes away: refused connections, live ones cut
    for method, path, how in every_endpoint(session_id):
        response = call(method, path, how)
        assert response.status_code == 503, (method, path, response.text)
        assert response.headers["Content-Type"].startswith("application/json"), (method, path)
        assert response.json()["detail"] == SERVICE_UNAVAILABLE, (method, path)
        assert "Set-Cookie" not in response.headers, (method, path)

    proxy.open()  # it comes back; the server is not restarted
    assert requests.get(f"{url}/api/health", timeout=30).json() == {"status": "ok"}
    assert call("get", "/api/users/me", {"bearer": True}).status_code == 200
    assert call("post", "/api/auth/refresh", {"cookie": True}).status_code == 200
    assert server.process.poll() is None
    workers = {line.split()[0] for line in server.access_log.read_text().splitlines()}
    assert len(workers) == 1, "the worker was replaced rather than recovering"
