"""The security emails end to end, as production sends them: gunicorn queues the task
in the database (django-tasks' database backend), and ``manage.py task_worker`` (the real
command, in its own process) sends it through the email backend EMAIL_URL names."""

import pytest
import requests

from authsite import testing

pytestmark = pytest.mark.slow

# The project's server and register endpoint, not the tokens app alone.

PASSWORD = "a long enough passphrase"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def sent_emails(folder) -> str:
    return "".join(path.read_text() for path in sorted(folder.glob("*.log")))


def test_the_worker_sends_what_a_login_queued(live_database, tmp_path):
    mail = tmp_path / "mail"
    env = testing.base_env(
        DATABASE_URL=live_database.url(),
        # Django's file backend: one .log file of messages per connection.
        EMAIL_URL=f"file:///{mail}",
        DEFAULT_FROM_EMAIL="security@auth.example.com",
        PUBLIC_URL="https://auth.example.com",
    )
    server = testing.start_server(env, tmp_path)
    try:
        body = {"email": "dana@example.com", "password": PASSWORD}
        assert requests.post(f"{server.url}/api/auth/register", json=body, timeout=30).ok
        login = requests.post(
            f"{server.url}/api/auth/login",
            json=body,
            headers={"User-Agent": FIREFOX},
            timeout=30,
        )
        assert login.status_code == 200
    finally:
        server.stop()
    # The login answered without sending anything: the email waits in the queue.
    assert not mail.exists() or sent_emails(mail) == ""

    output = testing.manage(env, "task_worker", "--batch", "--no-startup-delay", "--no-reload")

    assert "SUCCESSFUL" in output, output
    email = sent_emails(mail)
    assert "Subject: New sign-in to your account from Firefox on Linux" in email
    assert "To: dana@example.com" in email
    assert "From: security@auth.example.com" in email
    assert "https://auth.example.com/#sessions" in email
    assert login.json()["access_token"] not in email
    assert login.cookies["refresh_token"] not in email
