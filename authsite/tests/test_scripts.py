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
from django.contrib.auth import get_user_model
from django.core.management import call_command

from authsite import testing

SERVE = testing.ROOT / "scripts" / "serve"
# pip's check of .venv, migrate and runserver's start: seconds when the machine is
# idle, over 30 with other work running; the bound is for a hang, not a speed claim.
SERVE_SECONDS = 120


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


@pytest.mark.slow
def test_serve_takes_an_address_and_passes_the_rest_to_runserver(tmp_path):
    port = testing.free_port()
    env = testing.base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
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
        answer = wait_for_health(f"http://127.0.0.1:{port}", process)
        assert answer == {"status": 200, "body": b'{"status":"ok"}'}
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
