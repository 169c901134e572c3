"""``manage.py task_worker``: django-tasks-db's ``db_worker`` with its options, which
outlives database errors and runs again the tasks of workers that died (tokens.worker)."""

import logging
import os
from argparse import ArgumentParser, ArgumentTypeError
from datetime import timedelta

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from tokens.settings import tokens_settings
from tokens.worker import LeasedWorker


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ArgumentTypeError("must be at least 1")
    return number


class Command(db_worker.Command):
    help = (
        "Run the database task worker (db_worker's options) that reconnects after database "
        "errors and runs again, after --lease seconds, a task whose worker died."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--lease",
            type=positive_int,
            default=None,
            metavar="SECONDS",
            help="A task RUNNING this long belongs to a dead worker and runs again "
            "(default: TOKENS['TASK_LEASE']).",
        )
        parser.add_argument(
            "--max-claims",
            type=positive_int,
            default=None,
            metavar="N",
            help="Runs of one task at most, then FAILED (default: TOKENS['TASK_MAX_CLAIMS']).",
        )

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        # What the worker and the emails did (sent, retried, unconfirmed, taken back),
        # next to db_worker's own lines, unless the project's LOGGING says otherwise.
        for name in ("tokens.worker", "tokens.notifications"):
            named = logging.getLogger(name)
            if not named.hasHandlers():
                named.setLevel(db_worker.logger.level)
                named.addHandler(logging.StreamHandler(self.stdout))

    def handle(self, *, verbosity, queue_name, reload, lease, max_claims, **options) -> None:
        self.configure_logging(verbosity)
        if reload and options["batch"]:
            reload = False  # db_worker's rule: a batch runs once
        worker = LeasedWorker(
            lease=timedelta(seconds=lease) if lease else tokens_settings.TASK_LEASE,
            max_claims=max_claims or tokens_settings.TASK_MAX_CLAIMS,
            queue_names=queue_name.split(","),
            **{
                name: options[name]
                for name in ("interval", "batch", "backend_name", "startup_delay", "max_tasks")
            },
            worker_id=options["worker_id"],
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # in the reloader's child only, as db_worker
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
