"""Settings come from the environment; a bad value stops start-up naming the variable."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REFRESH_TOKEN_", "ACCESS_TOKEN_", "SESSIONS_", "RATE_LIMIT_"))
    }
    environment.update(DATABASE_URL="sqlite:///:memory:", **env)
    return run([sys.executable, "manage.py", *args], environment)


def run(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    """``command`` in a fresh process at the project root, its output captured."""
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_defaults_pass_the_checks():
    result = manage("check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "variable,value",
    [
        ("REFRESH_TOKEN_COOKIE_SAMESITE", "sometimes"),
        ("REFRESH_TOKEN_LIFETIME", "-5"),
        ("REFRESH_TOKEN_LIFETIME", "a week"),
        ("ACCESS_TOKEN_LIFETIME", "0"),
        ("REFRESH_TOKEN_ABSOLUTE_LIFETIME", "-1"),
        ("REFRESH_TOKEN_REUSE_INTERVAL", "-1"),
        ("REFRESH_TOKEN_ROTATE", "maybe"),
        ("SESSIONS_PER_USER_LIMIT", "-3"),
        ("TRUSTED_PROXY_COUNT", "x"),
        ("DEBUG", "perhaps"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_samesite_none_requires_secure():
    result = manage("check", REFRESH_TOKEN_COOKIE_SAMESITE="none")
    assert result.returncode != 0
    assert "REFRESH_TOKEN_COOKIE_SAMESITE" in result.stderr
    ok = manage("check", REFRESH_TOKEN_COOKIE_SAMESITE="none", REFRESH_TOKEN_COOKIE_SECURE="true")
    assert ok.returncode == 0, ok.stderr


def test_debug_off_without_a_secret_key_refuses_to_start():
    env = {"DEBUG": "false"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_off_with_a_secret_key_starts():
    result = manage("check", DEBUG="false", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


def test_health_is_503_json_when_the_database_cannot_be_reached():
    """A real unreachable database: a PostgreSQL URL on a port where nothing listens."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "import uuid;"
        "from rest_framework_simplejwt.tokens import AccessToken;"
        "t = AccessToken(); t['user_id'] = str(uuid.uuid4()); t['sid'] = str(uuid.uuid4());"
        "c = Client(raise_request_exception=False, HTTP_HOST='localhost');"
        "r = c.get('/api/health');"
        "print(r.status_code, r['Content-Type'], r.content.decode());"
        "r = c.get('/api/users/me', HTTP_AUTHORIZATION=f'Bearer {t}');"
        "print(r.status_code, r['Content-Type'], r.content.decode());"
        "r = c.post('/api/auth/login', {'email': 'a@b.co', 'password': 'x'}, "
        "content_type='application/json');"
        "print(r.status_code, r['Content-Type'], r.content.decode())"
    )
    environment = dict(os.environ)
    environment.update(
        DJANGO_SETTINGS_MODULE="authsite.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/nowhere",
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("503 application/json"), result.stdout + result.stderr
    assert '"status":"unavailable"' in lines[0].replace(" ", "")
    # Every endpoint, authentication included, answers 503 JSON rather than a 500.
    for line in lines[1:]:
        assert line.replace(" ", "").startswith(
            '503application/json{"detail":"SERVICE_UNAVAILABLE"}'
        )
    assert len(lines) == 3


def database_settings(**env: str) -> subprocess.CompletedProcess:
    """A fresh process with this environment prints settings.DATABASES["default"]'s
    pooling-related keys as JSON (or fails at start-up)."""
    script = (
        "import json, django; django.setup(); from django.conf import settings;"
        "d = settings.DATABASES['default'];"
        "print(json.dumps({'cursors': d.get('DISABLE_SERVER_SIDE_CURSORS', False),"
        " 'options': d['OPTIONS']}))"
    )
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_POOLING"}
    environment.update(DJANGO_SETTINGS_MODULE="authsite.settings", **env)
    return run([sys.executable, "-c", script], environment)


def test_transaction_pooling_turns_off_what_outlives_a_transaction():
    url = "postgres://postgres@127.0.0.1:6432/authsite"
    result = database_settings(DATABASE_URL=url, DATABASE_POOLING="transaction")
    assert result.returncode == 0, result.stderr
    pooled = json.loads(result.stdout)
    assert pooled["cursors"] is True
    assert "prepare_threshold" in pooled["options"]
    assert pooled["options"]["prepare_threshold"] is None
    assert "server_side_binding" not in pooled["options"]
    # Off by default: a direct connection keeps Django's server-side cursors.
    direct = json.loads(database_settings(DATABASE_URL=url).stdout)
    assert direct["cursors"] is False


def test_a_direct_postgresql_connection_prepares_its_statements():
    url = "postgres://postgres@127.0.0.1:5432/authsite"
    options = json.loads(database_settings(DATABASE_URL=url).stdout)["options"]
    assert (options["server_side_binding"], options["prepare_threshold"]) == (True, 2)
    # The URL's own choice wins.
    mine = database_settings(DATABASE_URL=f"{url}?server_side_binding=false&prepare_threshold=7")
    options = json.loads(mine.stdout)["options"]
    assert (options["server_side_binding"], options["prepare_threshold"]) == (False, 7)
    # SQLite has no such thing.
    sqlite = json.loads(database_settings(DATABASE_URL="sqlite:///:memory:").stdout)["options"]
    assert "prepare_threshold" not in sqlite


def test_postgresql_connections_have_a_connect_and_a_statement_timeout():
    url = "postgres://postgres@127.0.0.1:5432/authsite"
    direct = json.loads(database_settings(DATABASE_URL=url).stdout)["options"]
    assert direct["connect_timeout"] == 5
    assert direct["options"] == "-c statement_timeout=10s"
    tuned = database_settings(
        DATABASE_URL=url, DATABASE_CONNECT_TIMEOUT="2", DATABASE_STATEMENT_TIMEOUT="0"
    )
    assert json.loads(tuned.stdout)["options"] == {
        "connect_timeout": 2,
        "server_side_binding": True,
        "prepare_threshold": 2,
    }
    # PgBouncer refuses startup options: behind it the timeout is the role's.
    pooled = database_settings(DATABASE_URL=url, DATABASE_POOLING="transaction")
    assert "options" not in json.loads(pooled.stdout)["options"]
    for variable in ("DATABASE_CONNECT_TIMEOUT", "DATABASE_STATEMENT_TIMEOUT"):
        refused = database_settings(DATABASE_URL=url, **{variable: "-1"})
        assert refused.returncode != 0
        assert variable in refused.stderr


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///:memory:",
        "postgres://postgres@127.0.0.1:6432/authsite?prepare_threshold=5",
    ],
)
def test_transaction_pooling_refuses_what_cannot_work(url):
    result = database_settings(DATABASE_URL=url, DATABASE_POOLING="transaction")
    assert result.returncode != 0
    assert "DATABASE_POOLING" in result.stderr


def test_database_pooling_is_a_closed_choice():
    result = manage("check", DATABASE_POOLING="session-ish")
    assert result.returncode != 0
    assert "DATABASE_POOLING" in result.stderr
    assert "Traceback" not in result.stderr


def email_settings(**env: str) -> subprocess.CompletedProcess:
    """A fresh process with this environment prints the email settings as JSON."""
    script = (
        "import json, django; django.setup(); from django.conf import settings;"
        "print(json.dumps({**{name: getattr(settings, name) for name in ("
        "'EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER',"
        "'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'EMAIL_TIMEOUT',"
        "'DEFAULT_FROM_EMAIL')}, 'SECURITY_NOTIFICATION_SESSIONS_URL':"
        " settings.TOKENS['SECURITY_NOTIFICATION_SESSIONS_URL']}))"
    )
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"EMAIL_URL", "DEFAULT_FROM_EMAIL", "PUBLIC_URL"}
    }
    environment.update(DJANGO_SETTINGS_MODULE="authsite.settings", **env)
    return run([sys.executable, "-c", script], environment)


def test_without_email_url_emails_go_to_the_console():
    result = email_settings()
    assert result.returncode == 0, result.stderr
    configured = json.loads(result.stdout)
    assert configured["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert configured["SECURITY_NOTIFICATION_SESSIONS_URL"] == "http://localhost:8000/#sessions"


def test_email_url_configures_smtp():
    result = email_settings(
        EMAIL_URL="submission://mailer:p%40ss@smtp.example.com?timeout=5",
        DEFAULT_FROM_EMAIL="Security <security@example.com>",
        PUBLIC_URL="https://auth.example.com/",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 5,
        "DEFAULT_FROM_EMAIL": "Security <security@example.com>",
        "SECURITY_NOTIFICATION_SESSIONS_URL": "https://auth.example.com/#sessions",
    }
    # Without ?timeout=, a worker still gives up on a silent server.
    plain = json.loads(email_settings(EMAIL_URL="smtp://smtp.example.com").stdout)
    assert plain["EMAIL_PORT"] == 25 and plain["EMAIL_TIMEOUT"] == 10


@pytest.mark.parametrize(
    "variable,value",
    [
        ("EMAIL_URL", "smpt://mailer:secret-password@smtp.example.com"),
        ("PUBLIC_URL", "auth.example.com"),
    ],
)
def test_a_bad_email_setting_stops_start_up_without_echoing_it(variable, value):
    result = email_settings(**{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr
    assert "secret-password" not in result.stderr
