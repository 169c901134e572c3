"""django-tasks-db's worker, made to outlive its database and its own death.

``db_worker`` exits when a database call fails (a restarted PostgreSQL, a killed
connection), and a task it was running when it died (SIGKILL, a lost host, that exit)
stays RUNNING for ever: the email in it is never sent. ``LeasedWorker`` is the same
worker with two changes, what Celery's ``acks_late`` and Oban's Lifeline do:

- a database error is not the task's failure: the worker closes its connections, waits
  (longer after each failure in a row) and goes on; the task it interrupted goes back to
  the queue as soon as the database answers again;
- a task RUNNING for longer than ``lease`` belongs to a dead worker: any live worker puts
  it back in the queue, up to ``max_claims`` runs in all (then FAILED, so a task that
  kills its worker every time cannot loop for ever).

So each task runs at least once, and at most ``max_claims`` times when workers die or
the database fails at the wrong moment: the task must bear that (an email carries one
Message-ID whichever run sends it).
"""

import logging
import secrets
import time
from datetime import timedelta

from django.db import close_old_connections, connections, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from tokens.exceptions import DATABASE_UNAVAILABLE

logger = logging.getLogger("tokens.worker")

# Waits after a database error: doubled after each failure in a row, up to the cap.
RECONNECT_DELAY_SECONDS = 0.5
RECONNECT_DELAY_MAX_SECONDS = 30.0


class Abandoned(Exception):
    """What a FAILED row records for a task whose workers died ``max_claims`` times."""


class LeasedWorker(Worker):
    def __init__(self, *, lease: timedelta, max_claims: int, **options) -> None:
        super().__init__(**options)
        self.lease = lease
        self.max_claims = max_claims
        self._interrupted: DBTaskResult | None = None  # by a database error
        self._next_sweep = 0.0

    def run(self) -> None:
        """db_worker's loop (``--batch``, ``--max-tasks`` and signals alike), around
        database errors and with the lease sweep."""
        logger.info(
            "Starting worker worker_id=%s queues=%s lease=%ds",
            self.worker_id,
            ",".join(self.queue_names),
            self.lease.total_seconds(),
        )
        if self.startup_delay and self.interval:
            # Up to a second, so workers started together do not poll in step.
            time.sleep(secrets.randbelow(1000) / 1000)
        failures = 0
        while self.running:
            try:
                self._give_back_interrupted()
                self._sweep_expired_leases()
                task_result = self._claim_next()
                if task_result is not None:
                    self.run_task(task_result)
            except DATABASE_UNAVAILABLE as error:
                failures += 1
                delay = min(
                    RECONNECT_DELAY_SECONDS * 2 ** (failures - 1), RECONNECT_DELAY_MAX_SECONDS
                )
                logger.warning(
                    "database unavailable (%s: %s): reconnecting in %.1fs",
                    type(error).__name__,
                    str(error).strip().splitlines()[0] if str(error).strip() else "",
                    delay,
                )
                connections.close_all()
                time.sleep(delay)
                continue
            failures = 0
            if task_result is None and self.batch:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            close_old_connections()
            if self.running and task_result is None:
                time.sleep(self.interval)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """db_worker's ``run_task``, except that a database error, from the task or from
        recording its outcome, leaves the task to be run again instead of FAILED."""
        record_failure = db_task_result.set_failed

        def set_failed(error: BaseException) -> None:
            if isinstance(error, DATABASE_UNAVAILABLE):
                self._interrupted = db_task_result
                raise error
            record_failure(error)

        db_task_result.set_failed = set_failed  # this one row object only
        super().run_task(db_task_result)

    def _claim_next(self) -> DBTaskResult | None:
        """The next ready task of this worker's queues, claimed (db_worker's own query)."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result

    def _give_back_interrupted(self) -> None:
        """Queue again, at once, the task a database error interrupted in this worker."""
        if self._interrupted is not None:
            tasks = DBTaskResult.objects.filter(pk=self._interrupted.pk)
            self._release(tasks, "interrupted by a database error")
            self._interrupted = None  # only once the database took it

    def _sweep_expired_leases(self) -> None:
        """Queue again the tasks RUNNING for longer than the lease (their worker died);
        checked a few times per lease, not on every turn of the loop."""
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + min(self.lease.total_seconds() / 4, 60)
        expired = DBTaskResult.objects.filter(
            backend_name=self.backend_name, started_at__lt=timezone.now() - self.lease
        )
        self._release(expired, f"left RUNNING for more than {self.lease.total_seconds():.0f}s")

    def _release(self, tasks, why: str) -> None:
        """READY again those of ``tasks`` still RUNNING, or FAILED after max_claims runs.
        Locked rows are skipped: another worker is releasing them."""
        with transaction.atomic(using=tasks.db):
            for task_result in tasks.filter(status=TaskResultStatus.RUNNING).select_for_update(
                skip_locked=True
            ):
                runs = len(task_result.worker_ids)
                if runs >= self.max_claims:
                    logger.error(
                        "task id=%s path=%s %s, given up after %d runs (TASK_MAX_CLAIMS)",
                        task_result.pk,
                        task_result.task_path,
                        why,
                        runs,
                    )
                    task_result.set_failed(Abandoned(f"{why}; given up after {runs} runs"))
                    continue
                logger.warning(
                    "task id=%s path=%s (worker %s) %s: queued again (run %d of at most %d)",
                    task_result.pk,
                    task_result.task_path,
                    task_result.worker_ids[-1] if task_result.worker_ids else "?",
                    why,
                    runs + 1,
                    self.max_claims,
                )
                task_result.status = TaskResultStatus.READY
                task_result.save(update_fields=["status"])
