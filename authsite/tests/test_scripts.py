"""The README's Quick start, as a newcomer runs it: ./scripts/serve and the first admin.

The serve test runs the real script (its venv step finds .venv ready, so it is quick)
on a free port, with arguments after the address passed on to runserver.
"""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import call_command

from authsite import testing

SERVE = testing.ROOT / "scripts" / "serve"
# pip's check of .venv, migrate and runserver's start: seconds when the machine is
# idle, over 30 with other work running; the bound is for a hang, not a speed claim.
SERVE_SECONDS = 120
FIREFOX = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}


def wait_for_health(url: str, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + SERVE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"scripts/serve exited with {process.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                return {"status": response.status, "body": response.read()}
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)  # polling a starting process
    raise AssertionError(f"scripts/serve did not answer at {url} within {SERVE_SECONDS}s")


def wait_for_email(folder, process: subprocess.Popen) -> str:
    """The messages the file email backend wrote to ``folder``, once there is one."""
    deadline = time.monotonic() + SERVE_SECONDS
    while time.monotonic() < deadline:
        sent = "".join(path.read_text() for path in sorted(folder.glob("*.log")))
        if sent:
            return sent
        assert process.poll() is None, "scripts/serve exited before its worker sent the email"
        time.sleep(0.2)  # polling the worker, which polls its queue
    raise AssertionError(f"scripts/serve's worker sent no email within {SERVE_SECONDS}s")


@pytest.mark.slow
def test_serve_takes_an_address_and_passes_the_rest_to_runserver(tmp_path):
    port = testing.free_port()
    mail = tmp_path / "mail"
    env = testing.base_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", EMAIL_URL=f"file:///{mail}"
    )
    # --noreload goes to runserver: one process, and proof that extra arguments pass.
    process = subprocess.Popen(
        [str(SERVE), f"127.0.0.1:{port}", "--noreload"],
        cwd=tmp_path,  # the script finds the project from its own path
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        answer = wait_for_health(url, process)
        assert answer == {"status": 200, "body": b'{"status":"ok"}'}
        # PUBLIC_URL is the address served (not localhost:8000): the script's worker
        # sends the new-device email of a first sign-in, linking to this port.
        body = {"email": "dana@example.com", "password": "a long enough passphrase"}
        assert requests.post(f"{url}/api/auth/register", json=body, timeout=30).ok
        login = requests.post(f"{url}/api/auth/login", json=body, headers=FIREFOX, timeout=30)
        assert login.status_code == 200
        assert f"{url}/#sessions" in wait_for_email(mail, process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the group this test started
        process.wait(timeout=15)


def test_createsuperuser_asks_only_for_the_email_and_the_admin_lets_it_in(db, client, monkeypatch):
    # The README's `manage.py createsuperuser`, without its prompts: the email is the
    # only field it asks for besides the password.
    user_model = get_user_model()
    assert (user_model.USERNAME_FIELD, user_model.REQUIRED_FIELDS) == ("email", [])
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an admin passphrase")
    call_command("createsuperuser", "--noinput", "--email", "Admin@Example.com", verbosity=0)

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin@example.com", "password": "an admin passphrase"},
    )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
