"""What the tests that run real servers need: the servers themselves (gunicorn and
``manage.py`` in other processes, each with exactly the environment its test gives it),
a migrated database of each server's own (a copy of a migrated SQLite file, or a
PostgreSQL database next to pytest-django's test database), PgBouncer in front of it,
Redis, and seeded users and sessions.

``TEST_PROJECT`` is the app's own stock-User project (tokens/tests/settings.py); a
project around the app describes itself the same way (authsite/testing.py) and reuses
the rest. ``skip_or_fail`` is the one rule for a test that needs something this machine
may lack: skip locally, fail where CI requires it.
"""

import json
import os
import shutil
import socket
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

import tokens
from tokens.settings import DEFAULTS

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/1")
STARTUP_SECONDS = 60
SEEDED_PASSWORD = "correct horse battery staple"


def skip_or_fail(requirement: str, reason: str) -> None:
    """Skip the calling test for ``reason``; fail it instead when ``requirement`` is "1"
    in the environment (CI sets REQUIRE_POSTGRES, REQUIRE_REDIS, REQUIRE_BROWSER)."""
    import pytest

    if os.environ.get(requirement) == "1":
        pytest.fail(f"{requirement}=1 but this test {reason}")
    pytest.skip(reason)


# Fixtures that start servers or a browser (the live servers' work folder, pytest-django's
# live_server, web's Chromium): a test that uses one, even through another fixture, is slow.
SLOW_FIXTURES = frozenset({"live_workdir", "live_server", "browser"})


def require_slow_marker(items) -> None:
    """Stop the run when a test uses a server or browser fixture without the ``slow``
    marker: the everyday ``./scripts/test`` would otherwise start it."""
    import pytest

    unmarked = [
        item.nodeid
        for item in items
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "These tests start a server or a browser; mark them slow "
            f"(@pytest.mark.slow): {', '.join(unmarked)}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@dataclass(frozen=True)
class Project:
    """A Django project the tests start in other processes: how to run its
    ``manage.py`` and its gunicorn, and which variables configure it."""

    settings: str  # DJANGO_SETTINGS_MODULE
    wsgi: str  # gunicorn's application
    cwd: Path  # where its packages import from
    manage_command: tuple[str, ...]
    # A URL that answers once the server is up (no database, no authentication).
    ready_path: str
    # Variables of the calling environment a server must not inherit: each server
    # gets exactly the configuration its test gives it.
    own_variables: frozenset[str]
    gunicorn_config: Path | None = None

    def base_env(self, **overrides: str) -> dict[str, str]:
        """A production-like environment (DEBUG off, plain HTTP on loopback) plus overrides."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in self.own_variables and not key.startswith("PYTEST_")
        }
        env.update(
            DJANGO_SETTINGS_MODULE=self.settings,
            DEBUG="false",
            SECRET_KEY=f"live-test-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(overrides)
        return env

    def manage(self, env: dict[str, str], *args: str, timeout: float = 120) -> str:
        """Run manage.py with this environment; its stdout, or an AssertionError with stderr."""
        result = subprocess.run(
            [*self.manage_command, *args],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def start_server(
        self,
        env: dict[str, str],
        workdir: Path,
        *,
        workers: int = 1,
        port: int | None = None,
        bind: str | None = None,
    ) -> Server:
        """gunicorn serving the project with ``env``; returns once ``ready_path`` answers.

        ``bind`` is gunicorn's (e.g. ``[::]:PORT`` for a dual-stack socket, which must
        accept IPv4 on 127.0.0.1 too); by default 127.0.0.1 on ``port`` or a free one.
        The access log records each request's worker pid, status and X-Forwarded-For.
        """
        if bind is None:
            port = port or free_port()
            bind = f"127.0.0.1:{port}"
        else:
            port = int(bind.rsplit(":", 1)[1])
        tag = uuid.uuid4().hex[:8]
        access_log, error_log = workdir / f"access-{tag}.log", workdir / f"error-{tag}.log"
        # The project's production settings (header limits, logging) if it has them, then
        # this test's own address, workers and log files, which the command line overrides.
        config = ["--config", str(self.gunicorn_config)] if self.gunicorn_config else []
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                *config,
                self.wsgi,
                "--bind",
                bind,
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
            cwd=self.cwd,
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
                with urllib.request.urlopen(f"{server.url}{self.ready_path}", timeout=5):
                    return server
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)  # polling a starting process, not waiting for time to pass
        server.stop()
        raise AssertionError(
            f"gunicorn did not answer within {STARTUP_SECONDS}s:\n{server.errors()}"
        )


# The app's own test project: importable wherever tokens is (a checkout or the wheel).
TEST_PROJECT = Project(
    settings="tokens.tests.settings",
    wsgi="tokens.tests.wsgi:application",
    cwd=Path(tokens.__file__).resolve().parent.parent,
    manage_command=(sys.executable, "-m", "django"),
    ready_path="/.well-known/jwks.json",
    own_variables=frozenset(
        {
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "DATABASE_URL",
            "DATABASE_POOLING",
            "REDIS_URL",
            "DEBUG",
            "SECRET_KEY",
            "EMAIL_FILE_PATH",
            *DEFAULTS,
        }
    ),
)
base_env = TEST_PROJECT.base_env
manage = TEST_PROJECT.manage
start_server = TEST_PROJECT.start_server


def redis_unavailable_reason() -> str | None:
    """None when Redis answers at REDIS_TEST_URL, else why not."""
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        return f"needs Redis at {REDIS_TEST_URL} (REDIS_TEST_URL): {exc.__class__.__name__}"
    return None


def skip_or_fail_without_redis() -> None:
    """Skip the calling test when Redis is down; fail it when REQUIRE_REDIS=1 (CI)."""
    reason = redis_unavailable_reason()
    if reason is not None:
        skip_or_fail("REQUIRE_REDIS", reason)


@dataclass
class LiveDatabase:
    """A migrated database for live servers; ``url()`` gives a fresh copy's URL."""

    workdir: Path
    postgres: dict | None = None  # the parsed DATABASE_URL of a PostgreSQL run
    project: Project = TEST_PROJECT  # whose migrations make the database
    _template: Path | None = None
    _created: list[str] = field(default_factory=list)

    @classmethod
    def for_this_run(cls, workdir: Path, project: Project = TEST_PROJECT) -> "LiveDatabase":
        """PostgreSQL when the suite runs on it (DATABASE_URL), SQLite otherwise."""
        url = os.environ.get("DATABASE_URL", "")
        parsed = dj_database_url.parse(url) if url.startswith("postgres") else None
        return cls(workdir=workdir, postgres=parsed, project=project)

    @property
    def vendor(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    def url(self, *, port: int | None = None) -> str:
        """A freshly migrated database of its own; ``port`` overrides PostgreSQL's."""
        if self.postgres is None:
            if self._template is None:
                self._template = self.workdir / "template.sqlite3"
                self.project.manage(
                    self.project.base_env(DATABASE_URL=f"sqlite:///{self._template}"),
                    "migrate",
                    "-v0",
                )
            copy = self.workdir / f"live-{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copy(self._template, copy)
            return f"sqlite:///{copy}"
        name = f"{self.postgres['NAME']}_live_{uuid.uuid4().hex[:8]}"
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        self.project.manage(
            self.project.base_env(DATABASE_URL=self._pg_url(name)), "migrate", "-v0"
        )
        return self._pg_url(name, port=port)

    def _pg_url(self, name: str, *, port: int | None = None) -> str:
        pg = self.postgres
        auth = pg["USER"] + (f":{pg['PASSWORD']}" if pg.get("PASSWORD") else "")
        return f"postgres://{auth}@{pg['HOST']}:{port or pg['PORT'] or 5432}/{name}"

    def admin(self) -> psycopg.Connection:
        """An autocommit connection to the server's maintenance database, ``postgres``."""
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
        with self.admin() as conn:
            for name in self._created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        self._created.clear()


PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"  # Debian's, not on PATH


def skip_or_fail_without_pgbouncer() -> None:
    """Skip the calling test when PgBouncer is missing; fail it when REQUIRE_PGBOUNCER=1."""
    if not os.access(PGBOUNCER, os.X_OK):
        skip_or_fail("REQUIRE_PGBOUNCER", "needs PgBouncer (Debian's pgbouncer package)")


@dataclass
class PgBouncer:
    port: int
    user: str  # the PostgreSQL user, also PgBouncer's admin
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: PgBouncer's immediate shutdown
            self.process.wait(timeout=15)

    def admin(self, command: str) -> list[dict]:
        """A SHOW command on PgBouncer's admin console, as rows of dicts."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="pgbouncer", autocommit=True
        ) as conn:
            cursor = conn.execute(command)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def start_pgbouncer(
    database: LiveDatabase,
    workdir: Path,
    *,
    pool_size: int,
    port: int | None = None,
    query_wait_timeout: int | None = None,
) -> PgBouncer:
    """PgBouncer in transaction pooling mode in front of ``database``'s PostgreSQL (or
    of ``port`` on its host), on a free port, at most ``pool_size`` server connections
    per database; every database of that server is reachable through it by name.
    ``query_wait_timeout``: seconds a client waits for a server connection (PgBouncer's
    default, 120, when None)."""
    pg = database.postgres
    assert pg is not None, "PgBouncer stands in front of PostgreSQL only"
    directory = workdir / f"pgbouncer-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    listen = free_port()
    # The only login is the suite's own PostgreSQL user, its password (if any) in the
    # auth file; trust means PgBouncer itself checks no password from its clients.
    (directory / "users.txt").write_text(f'"{pg["USER"]}" "{pg.get("PASSWORD") or ""}"\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={pg['HOST']} port={port or pg['PORT'] or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory / 'users.txt'}\n"
        f"admin_users = {pg['USER']}\n"
        "pool_mode = transaction\n"
        f"max_client_conn = 200\ndefault_pool_size = {pool_size}\nreserve_pool_size = 0\n"
        + (f"query_wait_timeout = {query_wait_timeout}\n" if query_wait_timeout else "")
        # PgBouncer refuses to run as root; it reads its files first, then drops to this.
        + ("user = nobody\n" if os.geteuid() == 0 else "")
    )
    log = directory / "pgbouncer.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [PGBOUNCER, str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    bouncer = PgBouncer(port=listen, user=pg["USER"], process=process, log=log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pgbouncer exited at start-up:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", listen), timeout=1).close()
            return bouncer
        except OSError:
            time.sleep(0.05)  # polling a starting process
    bouncer.stop()
    raise AssertionError(f"pgbouncer did not listen within {STARTUP_SECONDS}s:\n{log.read_text()}")


def create_user(
    env: dict[str, str], login: str, password: str, *, project: Project = TEST_PROJECT
) -> None:
    """A user of the server's user model, whose login name is ``login`` (a manage.py shell)."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "model = get_user_model()\n"
        f"model._default_manager.create_user(**{{model.USERNAME_FIELD: {login!r}, "
        f"'password': {password!r}}})\n"
    )
    project.manage(env, "shell", "-v", "0", "-c", code)


def seed_sessions(
    env: dict[str, str], *, users: int, sessions_per_user: int, project: Project = TEST_PROJECT
) -> list[dict]:
    """Create users and live sessions in a server's database (a manage.py shell).

    Returns ``[{"email", "session_id", "access_token", "refresh_token"}]`` interleaved
    across users (consecutive entries belong to different users): tokens signed with the
    server's SECRET_KEY. ``email`` is the login name, an email address whatever the user
    model. The password is hashed once and shared, so thousands are cheap.
    """
    code = (
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.hashers import make_password\n"
        "from tokens import services\n"
        "User = get_user_model()\n"
        f"hashed = make_password({SEEDED_PASSWORD!r})\n"
        "users = User.objects.bulk_create(\n"
        "    [User(**{User.USERNAME_FIELD: f'fuzz{u}@example.com', 'password': hashed})\n"
        f"     for u in range({users})])\n"
        "out = []\n"
        f"for _ in range({sessions_per_user}):\n"
        "    for user in users:\n"
        "        issued = services.start_session(user, user_agent='seed')\n"
        "        out.append({'email': user.get_username(), 'session_id': str(issued.session.id),\n"
        "                    'access_token': issued.access_token,\n"
        "                    'refresh_token': issued.refresh_token})\n"
        "print(json.dumps(out))\n"
    )
    output = project.manage(env, "shell", "-v", "0", "-c", code)
    return json.loads(output.strip().splitlines()[-1])
