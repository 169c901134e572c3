"""A stranger adopts the tokens app: the wheel built from this checkout, a fresh virtual
environment, a fresh ``django-admin startproject``, and docs/adopting.md followed as
written (every block marked ``<!-- adoption: ... -->`` is run, in order), so the page
cannot drift from what works. Then the same steps over HTTP with assertions: login by
username, refresh from the cookie, the project's own protected view, logout, and a
password set in the shell ending the other sessions.

Twice: with the bare wheel (no extras: the defaults must hold without them) and with
every extra. On PostgreSQL when DATABASE_URL points at one (the project gets a fresh
database of its own), SQLite otherwise. ADOPTION_WORKDIR keeps the wheel and the
virtual environments for .ci/run, which then runs the app's own tests in the full one.
The one liberty taken with the page: the server's port is a free one, not 8000.
"""

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "adopting.md"
DISTRIBUTION = "drf-session-tokens"
OPTIONAL_MODULES = (
    "django_tasks",
    "cryptography",
    "joserfc",
    "redis",
    "drf_spectacular",
    "ua_parser",
)
STARTUP_SECONDS = 60
DIRECTIVE = re.compile(r"<!-- adoption: (\w+)(?: (\S+))? -->\n```(\w+)\n(.*?)```", re.S)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    given = os.environ.get("ADOPTION_WORKDIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    return tmp_path_factory.mktemp("adoption")


@pytest.fixture(scope="session")
def wheel(workdir) -> Path:
    """``pip wheel`` of this checkout's files (a clean clone in CI), built in a copy so
    the checkout gets no build/ folder."""
    dist = workdir / "dist"
    found = sorted(dist.glob("*.whl")) if dist.exists() else []
    if found:
        return found[-1]
    source = workdir / "source"
    files = run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(source)])
    [built] = dist.glob("*.whl")
    return built


def make_venv(workdir: Path, name: str, wheel: Path, extras: str | None) -> Path:
    venv = workdir / f"venv-{name}"
    if not (venv / "bin" / "python").exists():
        run([sys.executable, "-m", "venv", str(venv)])
        if extras:  # what the page's plain `pip install` then finds already there
            run([str(venv / "bin" / "python"), "-m", "pip", "install", f"{wheel}[{extras}]"])
    return venv


@pytest.fixture(scope="session")
def bare_venv(workdir, wheel) -> Path:
    return make_venv(workdir, "bare", wheel, None)


@pytest.fixture(scope="session")
def all_venv(workdir, wheel) -> Path:
    return make_venv(workdir, "all", wheel, "all,test")


def test_the_wheel_holds_the_app_alone(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/", 1)[0] for name in names}
    assert packages == {
        "tokens",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }
    assert "tokens/migrations/0001_initial.py" in names
    assert "tokens/templates/tokens/email/new_device.txt" in names
    assert "tokens/templates/admin/tokens/refreshtoken/change_list.html" in names
    assert "tokens/tests/settings.py" in names  # the app's tests run from the wheel
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA")))
    version = re.search(r'^__version__ = "(.+)"$', (ROOT / "tokens/__init__.py").read_text(), re.M)
    assert f"Version: {version.group(1)}\n" in metadata.decode()
    assert "License-Expression: MIT" in metadata.decode()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def steps() -> list[tuple[str, str | None, str]]:
    """(kind, argument, code) of each marked block of the page, in order."""
    found = [(m.group(1), m.group(2), m.group(4)) for m in DIRECTIVE.finditer(PAGE.read_text())]
    assert [kind for kind, _, _ in found].count("serve") == 1
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Project:
    """A fresh folder, a virtual environment, and the page's steps run in it."""

    def __init__(self, folder: Path, venv: Path, wheel: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.server: subprocess.Popen | None = None
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST_", "DJANGO_", "VIRTUAL_ENV"))
            and key not in {"DATABASE_URL", "PYTHONPATH"}
        }
        self.env.update(
            PATH=f"{venv / 'bin'}:{os.environ['PATH']}",
            VIRTUAL_ENV=str(venv),
            PIP_FIND_LINKS=str(wheel.parent),  # `pip install drf-session-tokens` finds it
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PYTHONDONTWRITEBYTECODE="1",
        )

    def code(self, text: str) -> str:
        return text.replace("127.0.0.1:8000", f"127.0.0.1:{self.port}")

    def shell(self, script: str) -> subprocess.CompletedProcess:
        return run(
            ["bash", "-euo", "pipefail", "-c", self.code(script)], cwd=self.folder, env=self.env
        )

    def serve(self, script: str) -> None:
        self.server = subprocess.Popen(
            ["bash", "-c", "exec " + self.code(script).strip()],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "server.log").open("w"),
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.server.poll() is None, (self.folder / "server.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)  # polling a starting process
        raise AssertionError("the development server did not start")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=15)

    def follow(self, page_steps, *, database_url: str | None) -> None:
        """Every step of the page, in order; consecutive ``run`` blocks share one shell
        (a reader's terminal keeps its variables)."""
        pending: list[str] = []
        for kind, argument, code in page_steps:
            if kind != "run" and pending:
                self.shell("\n".join(pending))
                pending = []
            if kind == "run":
                pending.append(code)
            elif kind == "append":
                with (self.folder / argument).open("a") as settings:
                    settings.write("\n" + code)
                    if database_url and argument.endswith("settings.py"):
                        settings.write(postgres_settings(database_url))
            elif kind == "write":
                (self.folder / argument).write_text(code)
            elif kind == "serve":
                self.serve(code)
            else:
                raise AssertionError(f"unknown step {kind!r}")
        if pending:
            self.shell("\n".join(pending))


def postgres_settings(url: str) -> str:
    """DATABASES for ``url`` (not a step of the page: where CI runs it on PostgreSQL)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (
        "\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', "
        f"'NAME': {parts.path.lstrip('/')!r}, 'USER': {parts.username!r}, "
        f"'PASSWORD': {parts.password or ''!r}, 'HOST': {parts.hostname!r}, "
        f"'PORT': {parts.port or 5432!r}}}}}\n"
    )


@pytest.fixture
def database_url():
    """A fresh PostgreSQL database when DATABASE_URL names a server, else None (SQLite)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    base, _, name = url.rpartition("/")
    fresh = f"{name}_adopt_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{fresh}"')
    yield f"{base}/{fresh}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


class Browser:
    """A client with a cookie jar, as the page's curl with ``-b jar -c jar``."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, method: str, path: str, body=None, token=None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def login(self, password: str) -> str:
        status, body = self.call(
            "POST", "/api/auth/login", {"username": "ada", "password": password}
        )
        assert status == 200, body
        return body["access_token"]


@pytest.mark.parametrize("variant", ["bare", "all"])
def test_the_page_as_written_in_a_fresh_project(variant, request, tmp_path, wheel, database_url):
    venv = request.getfixturevalue(f"{variant}_venv")
    project = Project(tmp_path / "project", venv, wheel)
    project.folder.mkdir()
    if database_url:  # a project on PostgreSQL has its driver (not an extra of ours)
        run([str(venv / "bin" / "python"), "-m", "pip", "install", "psycopg[binary]"])
    try:
        project.follow(steps(), database_url=database_url)

        installed = run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"])
        names = {p["name"].lower().replace("-", "_") for p in json.loads(installed.stdout)}
        if variant == "bare":  # no extra came in by the back door
            assert names.isdisjoint({m.lower() for m in OPTIONAL_MODULES}), names

        # check --deploy: errors and warnings are the point, a traceback never is.
        deploy = subprocess.run(
            ["python", "manage.py", "check", "--deploy"],
            cwd=project.folder,
            env=project.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert "Traceback" not in deploy.stderr, deploy.stderr
        assert "security.W018" in deploy.stderr  # it ran: DEBUG is on in a new project

        base = f"http://127.0.0.1:{project.port}"
        password = "another long passphrase"  # the page's shell step set it
        browser, phone = Browser(base), Browser(base)
        access = browser.login(password)
        cookie = next(c for c in browser.jar if c.name == "refresh_token")
        assert (cookie.path, cookie.has_nonstandard_attr("HttpOnly")) == ("/api/auth", True)
        status, body = browser.call("POST", "/api/auth/refresh")
        assert status == 200, body
        access = body["access_token"]
        assert browser.call("GET", "/api/me", token=access) == (200, {"username": "ada"})
        assert browser.call("GET", "/api/me")[0] == 401
        phone_access = phone.login(password)

        # A password set in the shell ends every session of the user.
        project.shell(
            'python manage.py shell -c "from django.contrib.auth.models import User; '
            "u = User.objects.get(username='ada'); u.set_password('a third passphrase'); u.save()\""
        )
        assert phone.call("POST", "/api/auth/refresh") == (401, {"detail": "REFRESH_TOKEN_INVALID"})
        assert phone.call("GET", "/api/me", token=phone_access) == (
            401,
            {"detail": "ACCESS_TOKEN_INVALID"},
        )
        access = browser.login("a third passphrase")
        assert browser.call("POST", "/api/auth/logout", token=access)[0] == 200
        assert browser.call("GET", "/api/me", token=access) == (
            401,
            {"detail": "ACCESS_TOKEN_INVALID"},
        )
        assert browser.call("POST", "/api/auth/refresh")[0] == 401
        # No request failed. (With every extra and no TASKS, django-tasks sends each
        # security email inside the request that caused it, to Django's default SMTP
        # backend, which has no server here: the send fails, is logged with its
        # traceback and retried, and the request answers as usual. check --deploy
        # warns of this, tokens.W001; the page says to queue them.)
        log = (project.folder / "server.log").read_text()
        assert "Internal Server Error" not in log, log
        assert not re.search(r'" 5\d\d ', log), log
    finally:
        project.stop()
