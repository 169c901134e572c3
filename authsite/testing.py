"""Helpers for tests that run the real server, or manage.py, in another process.

Each server is gunicorn on a free loopback port with exactly the environment its test
gives it; callers stop what they start. ``skip_or_fail`` is the one rule for a test
that needs something this machine may lack: skip locally, fail where CI requires it.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60
GUNICORN_CONF = ROOT / "authsite" / "gunicorn.conf.py"

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
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "PUBLIC_URL",
    "ACCESS_TOKEN_ALGORITHM",
    "ACCESS_TOKEN_SIGNING_KEY",
    "ACCESS_TOKEN_SIGNING_KEY_FILE",
    "ACCESS_TOKEN_VERIFYING_KEY_FILES",
    "ACCESS_TOKEN_ISSUER",
    "ACCESS_TOKEN_AUDIENCE",
    "INTROSPECTION_CLIENTS",
    "RATE_LIMIT_INTROSPECTION",
    "JWKS_MAX_AGE",
}


def skip_or_fail(requirement: str, reason: str) -> None:
    """Skip the calling test for ``reason``; fail it instead when ``requirement`` is "1"
    in the environment (CI sets REQUIRE_POSTGRES, REQUIRE_REDIS, REQUIRE_BROWSER)."""
    import pytest

    if os.environ.get(requirement) == "1":
        pytest.fail(f"{requirement}=1 but this test {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


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
    env: dict[str, str],
    workdir: Path,
    *,
    workers: int = 1,
    port: int | None = None,
    bind: str | None = None,
) -> Server:
    """gunicorn serving authsite with ``env`` and authsite/gunicorn.conf.py; returns once
    /api/schema/ answers.

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
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            # The production settings (header limits, logging), then this test's own
            # address, workers and log files, which the command line overrides.
            "--config",
            str(GUNICORN_CONF),
            "authsite.wsgi:application",
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
