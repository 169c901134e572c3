"""Real server processes for the tests that need one (schemathesis, faults, workers).

Each server is gunicorn on a free loopback port, with its own environment and a
migrated database of its own: a copy of a migrated SQLite file, or a PostgreSQL
database next to pytest-django's test database. Callers stop what they start.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import psycopg
import redis
from psycopg import sql

from authsite.testing import ROOT, free_port

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/1")
STARTUP_SECONDS = 60
SEEDED_PASSWORD = "correct horse battery staple"
# Variables of the calling environment a server must not inherit: each server gets
# exactly the configuration its test gives it. (The browser tests set
# DJANGO_ALLOW_ASYNC_UNSAFE in this process while Chromium runs.)
_OURS = {
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "TRUSTED_PROXY_COUNT",
    "RATE_LIMIT_LOGIN",
    "RATE_LIMIT_DEFAULT",
    "CORS_ALLOWED_ORIGINS",
    "REFRESH_TOKEN_COOKIE_SECURE",
}


def redis_unavailable_reason() -> str | None:
    """None when Redis answers at REDIS_TEST_URL, else why not."""
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        return f"needs Redis at {REDIS_TEST_URL} (REDIS_TEST_URL): {exc.__class__.__name__}"
    return None


def skip_or_fail_without_redis() -> None:
    """Skip the calling test when Redis is down; fail it when REQUIRE_REDIS=1 (CI)."""
    import pytest

    reason = redis_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail(f"REQUIRE_REDIS=1 but this test {reason}")
    pytest.skip(reason)


def base_env(**overrides: str) -> dict[str, str]:
    """A production-like environment (DEBUG off, plain HTTP on loopback) plus overrides."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _OURS and not key.startswith("PYTEST_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="authsite.settings",
        DEBUG="false",
        SECRET_KEY=f"live-test-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run manage.py with this environment; its stdout, or an AssertionError with stderr."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


@dataclass
class LiveDatabase:
    """A migrated database for live servers; ``url()`` gives a fresh copy's URL."""

    workdir: Path
    postgres: dict | None = None  # the parsed DATABASE_URL of a PostgreSQL run
    _template: Path | None = None
    _created: list[str] = field(default_factory=list)

    @classmethod
    def for_this_run(cls, workdir: Path) -> "LiveDatabase":
        """PostgreSQL when the suite runs on it (DATABASE_URL), SQLite otherwise."""
        url = os.environ.get("DATABASE_URL", "")
        parsed = dj_database_url.parse(url) if url.startswith("postgres") else None
        return cls(workdir=workdir, postgres=parsed)

    @property
    def vendor(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    def url(self, *, port: int | None = None) -> str:
        """A freshly migrated database of its own; ``port`` overrides PostgreSQL's."""
        if self.postgres is None:
            if self._template is None:
                self._template = self.workdir / "template.sqlite3"
                manage(base_env(DATABASE_URL=f"sqlite:///{self._template}"), "migrate", "-v0")
            copy = self.workdir / f"live-{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copy(self._template, copy)
            return f"sqlite:///{copy}"
        name = f"{self.postgres['NAME']}_live_{uuid.uuid4().hex[:8]}"
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        manage(base_env(DATABASE_URL=self._pg_url(name)), "migrate", "-v0")
        return self._pg_url(name, port=port)

    def _pg_url(self, name: str, *, port: int | None = None) -> str:
        pg = self.postgres
        auth = pg["USER"] + (f":{pg['PASSWORD']}" if pg.get("PASSWORD") else "")
        return f"postgres://{auth}@{pg['HOST']}:{port or pg['PORT'] or 5432}/{name}"

    def _admin(self) -> psycopg.Connection:
        pg = self.postgres
        return psycopg.connect(
            host=pg["HOST"],
            port=pg["PORT"] or 5432,
            user=pg["USER"],
            password=pg.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        )

    def drop_all(self) -> None:
        if self.postgres is None:
            return
        with self._admin() as conn:
            for name in self._created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        self._created.clear()


@dataclass
class Server:
    url: str
    env: dict[str, str]
    process: subprocess.Popen
    access_log: Path
    error_log: Path

    def stop(self) -> None:
        """Terminate gunicorn (and its workers); kill it if it does not go in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def errors(self) -> str:
        return self.error_log.read_text() if self.error_log.exists() else ""


def start_server(
    env: dict[str, str], workdir: Path, *, workers: int = 1, port: int | None = None
) -> Server:
    """gunicorn serving authsite with ``env``; returns once /api/schema/ answers.

    The access log records each request's worker pid, status and X-Forwarded-For.
    """
    port = port or free_port()
    tag = uuid.uuid4().hex[:8]
    access_log, error_log = workdir / f"access-{tag}.log", workdir / f"error-{tag}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "authsite.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            '%(p)s %(s)s "%(r)s" %({x-forwarded-for}i)s',
            "--error-logfile",
            str(error_log),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(f"http://127.0.0.1:{port}", env, process, access_log, error_log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited at start-up:\n{server.errors()}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/schema/", timeout=5):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)  # polling a starting process, not waiting for time to pass
    server.stop()
    raise AssertionError(f"gunicorn did not answer within {STARTUP_SECONDS}s:\n{server.errors()}")


def seed_sessions(env: dict[str, str], *, users: int, sessions_per_user: int) -> list[dict]:
    """Create users and live sessions in a server's database (a manage.py shell).

    Returns ``[{"email", "session_id", "access_token", "refresh_token"}]`` interleaved across users
    (consecutive entries belong to different users): tokens signed with the server's
    SECRET_KEY. The password is hashed once and shared, so thousands are cheap.
    """
    code = (
        "import json\n"
        "from django.contrib.auth.hashers import make_password\n"
        "from accounts.models import User\n"
        "from tokens import services\n"
        f"hashed = make_password({SEEDED_PASSWORD!r})\n"
        "users = User.objects.bulk_create(\n"
        f"    [User(email=f'fuzz{{u}}@example.com', password=hashed) for u in range({users})])\n"
        "out = []\n"
        f"for _ in range({sessions_per_user}):\n"
        "    for user in users:\n"
        "        issued = services.start_session(user, user_agent='seed')\n"
        "        out.append({'email': user.email, 'session_id': str(issued.session.id),\n"
        "                    'access_token': issued.access_token,\n"
        "                    'refresh_token': issued.refresh_token})\n"
        "print(json.dumps(out))\n"
    )
    output = manage(env, "shell", "-v", "0", "-c", code)
    return json.loads(output.strip().splitlines()[-1])
