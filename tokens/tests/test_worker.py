"""The task worker (tokens.worker, ``manage.py task_worker``): a task whose worker died is
run again after its lease, a bounded number of times, and never before. In-process on the
test database; authsite/tests/test_email_worker_faults.py kills real workers and their
connections."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tokens import notifications
from tokens.worker import LeasedWorker

# The worker takes its tasks in transactions of its own (BEGIN EXCLUSIVE on SQLite).
pytestmark = pytest.mark.django_db(transaction=True)

LEASE = timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queued(make_user, django_capture_on_commit_callbacks):
    """One security email in the queue, for a user with an address."""
    user = make_user("carol")
    user.email = "carol@example.com"
    user.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(notifications.REPLAY, user.pk, device="Firefox on Linux")
    [task] = DBTaskResult.objects.all()
    return task


def left_running(task: DBTaskResult, *, since: timedelta, runs: int) -> None:
    """As a worker that died ``since`` ago, on its ``runs``-th run, leaves it."""
    task.status = TaskResultStatus.RUNNING
    task.started_at = timezone.now() - since
    task.worker_ids = [f"dead-{n}" for n in range(runs)]
    task.save()


def run_worker(**options) -> None:
    LeasedWorker(
        lease=options.pop("lease", LEASE),
        max_claims=options.pop("max_claims", 3),
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="live",
    ).run()


def test_a_task_past_its_lease_runs_again_and_is_sent(queued):
    left_running(queued, since=LEASE + timedelta(seconds=1), runs=1)
    run_worker()
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL
    assert queued.worker_ids == ["dead-0", "live"]
    [sent] = mail.outbox
    # The Message-ID made when the email was queued, whichever run sends it.
    assert sent.extra_headers["Message-ID"] == queued.args_kwargs["args"][2]["message_id"]


def test_a_task_inside_its_lease_is_left_to_its_worker(queued):
    left_running(queued, since=LEASE - timedelta(seconds=5), runs=1)
    run_worker()
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.RUNNING
    assert mail.outbox == []


def test_a_task_that_outlived_its_workers_max_claims_times_fails(queued):
    left_running(queued, since=LEASE * 2, runs=3)
    run_worker(max_claims=3)
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.FAILED
    assert queued.exception_class_path == "tokens.worker.Abandoned"
    assert mail.outbox == []


def test_the_command_takes_its_lease_from_the_settings(queued, settings):
    settings.TOKENS = {**settings.TOKENS, "TASK_LEASE": timedelta(seconds=30)}
    left_running(queued, since=timedelta(seconds=31), runs=1)
    call_command("task_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL
    assert len(mail.outbox) == 1
