"""The security emails survive what production does to their worker: its database
connection killed in the middle of a send, the worker itself killed (SIGKILL), and a
relay that acknowledges each message after the client gave up waiting. The real worker
command in its own process, a real SMTP server on loopback (tokens/tests/smtp_sink.py),
the tasks in the project's database."""

import json
import signal
import subprocess
import sys
import time

import pytest

from authsite import testing
from tokens.tests.smtp_sink import ACCEPT, STALL, SmtpSink

pytestmark = pytest.mark.slow

# The worker: django-tasks-db's db_worker, with a lease and reconnection (tokens.worker).
WORKER = "task_worker"
WORKER_OPTIONS = ("--no-startup-delay", "--no-reload", "--interval", "0.2")
PASSWORD = "a long enough passphrase"
SMTP_TIMEOUT = 2  # seconds: EMAIL_URL's ?timeout=


def environment(live_database, sink: SmtpSink, **overrides: str) -> dict[str, str]:
    return testing.base_env(
        DATABASE_URL=live_database.url(),
        EMAIL_URL=f"smtp://127.0.0.1:{sink.port}?timeout={SMTP_TIMEOUT}",
        DEFAULT_FROM_EMAIL="security@auth.example.com",
        SECURITY_NOTIFICATION_RETRY_DELAY="1",
        **overrides,
    )


def queue_theft_emails(env: dict[str, str], count: int = 1) -> None:
    """``count`` users, each with one queued "stolen refresh token" email."""
    testing.manage(
        env,
        "shell",
        "-v",
        "0",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from tokens import notifications\n"
        f"for n in range({count}):\n"
        "    user = get_user_model().objects.create_user(f'victim{n}@example.com')\n"
        "    notifications.notify(notifications.REPLAY, user.pk, device='Firefox on Linux',"
        " ip_address='198.51.100.7')\n",
    )


def task_statuses(env: dict[str, str]) -> list[str]:
    output = testing.manage(
        env,
        "shell",
        "-v",
        "0",
        "-c",
        "import json\nfrom django_tasks_db.models import DBTaskResult\n"
        "print(json.dumps(sorted(DBTaskResult.objects.values_list('status', flat=True))))",
    )
    return json.loads(output.strip().splitlines()[-1])


def settled(env: dict[str, str], *, seconds: float) -> list[str]:
    """The tasks' statuses once none is READY or RUNNING (or when ``seconds`` are up)."""
    deadline = time.monotonic() + seconds
    while True:
        statuses = task_statuses(env)
        if not {"READY", "RUNNING"} & set(statuses) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.5)


class Worker:
    def __init__(self, env: dict[str, str], log_path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", WORKER, *WORKER_OPTIONS],
            cwd=testing.ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def wait_until(condition, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def terminate_connections(live_database, env: dict[str, str]) -> int:
    """PostgreSQL ends every connection to the server's database (pg_terminate_backend)."""
    with live_database.admin() as admin:
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (env["DATABASE_URL"].rsplit("/", 1)[1],),
        ).fetchone()[0]


@pytest.mark.postgres
def test_the_worker_outlives_its_connection_killed_mid_send(live_database, tmp_path):
    with SmtpSink(mode=STALL) as sink:
        env = environment(live_database, sink)
        queue_theft_emails(env)
        worker = Worker(env, tmp_path / "worker.log")
        try:
            assert wait_until(lambda: sink.connections >= 1, seconds=30), worker.log()
            # PostgreSQL ends the worker's connection while it waits on the mail server.
            assert terminate_connections(live_database, env) >= 1
            sink.mode = ACCEPT  # the relay comes back

            assert sink.wait_for(1, seconds=60), worker.log()
            assert settled(env, seconds=60) != [], worker.log()
            assert worker.process.poll() is None, worker.log()  # it lived on
        finally:
            worker.stop()
        assert "RUNNING" not in task_statuses(env)
        assert len(sink.received) == 1, sink.message_ids()


@pytest.mark.postgres
def test_every_queued_email_arrives_through_repeated_connection_kills(live_database, tmp_path):
    count, kills = 30, 8
    # A slow relay, so that kills land in sends as well as between them.
    with SmtpSink(mode=ACCEPT, ack_delay=0.1) as sink:
        env = environment(live_database, sink)
        queue_theft_emails(env, count)
        worker = Worker(env, tmp_path / "worker.log")
        try:
            for _ in range(kills):
                time.sleep(0.4)
                terminate_connections(live_database, env)
            statuses = settled(env, seconds=90)
            assert worker.process.poll() is None, worker.log()
        finally:
            worker.stop()
        assert statuses == ["SUCCESSFUL"] * count, statuses
        recipients = [
            line for m in sink.received for line in m.decode().splitlines() if line[:4] == "To: "
        ]
        # Each one at least once; a kill between a send and its record sends it again,
        # at most TASK_MAX_CLAIMS (3) times.
        assert {f"To: victim{n}@example.com" for n in range(count)} == set(recipients)
        assert max(recipients.count(r) for r in recipients) <= 3
        assert "reconnecting" in worker.log()


def test_a_task_whose_worker_was_killed_runs_again_after_its_lease(live_database, tmp_path):
    with SmtpSink(mode=STALL) as sink:
        env = environment(live_database, sink, TASK_LEASE="3")
        queue_theft_emails(env)
        first = Worker(env, tmp_path / "first.log")
        try:
            assert wait_until(lambda: sink.connections >= 1, seconds=30), first.log()
            first.process.kill()  # SIGKILL in the middle of the send
            first.process.wait(timeout=10)
        finally:
            first.stop()
        assert task_statuses(env) == ["RUNNING"]  # what the dead worker left
        sink.mode = ACCEPT

        second = Worker(env, tmp_path / "second.log")
        try:
            assert sink.wait_for(1, seconds=45), second.log()
            statuses = settled(env, seconds=30)
        finally:
            second.stop()
        assert statuses == ["SUCCESSFUL"], (statuses, second.log())
        assert "left RUNNING" in second.log()
        assert len(sink.received) == 1


def test_a_relay_that_acknowledges_late_gets_the_email_at_most_twice(live_database, tmp_path):
    # The relay keeps each message but answers after the client's timeout: every attempt
    # looks failed to the client although the message went through.
    with SmtpSink(mode=ACCEPT, ack_delay=SMTP_TIMEOUT + 2) as sink:
        env = environment(live_database, sink)
        queue_theft_emails(env)
        worker = Worker(env, tmp_path / "worker.log")
        try:
            statuses = settled(env, seconds=90)
            time.sleep(3)  # a further attempt would have started by now (retry delay 1 s)
        finally:
            worker.stop()
        assert len(sink.received) == 2, (len(sink.received), worker.log())
        # One email, one Message-ID: a mailbox that deduplicates shows it once.
        assert len(set(sink.message_ids())) == 1
        assert "READY" not in statuses and "RUNNING" not in statuses
        assert "may have been delivered" in worker.log()
