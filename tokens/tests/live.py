"""Databases and Redis for the tests that run real servers (schemathesis, faults,
workers): a migrated database of each server's own (a copy of a migrated SQLite file, or
a PostgreSQL database next to pytest-django's test database), PgBouncer in front of it,
and seeded sessions. The servers themselves come from ``authsite.testing``.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import psycopg
import redis
from psycopg import sql

from authsite.testing import base_env, free_port, manage, skip_or_fail

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/1")
STARTUP_SECONDS = 60
SEEDED_PASSWORD = "correct horse battery staple"


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


def start_pgbouncer(database: LiveDatabase, workdir: Path, *, pool_size: int) -> PgBouncer:
    """PgBouncer in transaction pooling mode in front of ``database``'s PostgreSQL, on a
    free port, at most ``pool_size`` server connections per database; every database of
    that server is reachable through it by name."""
    pg = database.postgres
    assert pg is not None, "PgBouncer stands in front of PostgreSQL only"
    directory = workdir / f"pgbouncer-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    port = free_port()
    # The only login is the suite's own PostgreSQL user, its password (if any) in the
    # auth file; trust means PgBouncer itself checks no password from its clients.
    (directory / "users.txt").write_text(f'"{pg["USER"]}" "{pg.get("PASSWORD") or ""}"\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={pg['HOST']} port={pg['PORT'] or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory / 'users.txt'}\n"
        f"admin_users = {pg['USER']}\n"
        "pool_mode = transaction\n"
        f"max_client_conn = 200\ndefault_pool_size = {pool_size}\nreserve_pool_size = 0\n"
        # PgBouncer refuses to run as root; it reads its files first, then drops to this.
        + ("user = nobody\n" if os.geteuid() == 0 else "")
    )
    log = directory / "pgbouncer.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [PGBOUNCER, str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    bouncer = PgBouncer(port=port, user=pg["USER"], process=process, log=log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pgbouncer exited at start-up:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return bouncer
        except OSError:
            time.sleep(0.05)  # polling a starting process
    bouncer.stop()
    raise AssertionError(f"pgbouncer did not listen within {STARTUP_SECONDS}s:\n{log.read_text()}")


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
        "        out.append({'email': user.get_username(), 'session_id': str(issued.session.id),\n"
        "                    'access_token': issued.access_token,\n"
        "                    'refresh_token': issued.refresh_token})\n"
        "print(json.dumps(out))\n"
    )
    output = manage(env, "shell", "-v", "0", "-c", code)
    return json.loads(output.strip().splitlines()[-1])
