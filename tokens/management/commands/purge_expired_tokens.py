"""``manage.py purge_expired_tokens [--dry-run] [--batch-size N]``: a door to the service."""

from django.core.management.base import BaseCommand, CommandParser

from tokens import maintenance


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    # A cron job: skip the project-wide system checks (URLconf, admin, DRF...), which
    # cost more start-up time and memory than the purge of a small table; deployments
    # run `manage.py check --deploy` and migrate, which check them.
    requires_system_checks: list[str] = []
    help = (
        "Delete the sessions past their idle or absolute expiry, in batches along the "
        "expiry index (memory does not grow with the row count), and the security emails' "
        "task rows finished more than two weeks ago. Safe while the service serves: each "
        "DELETE re-checks the expiry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=maintenance.DEFAULT_BATCH_SIZE,
            metavar="N",
            help=f"Rows per DELETE and per transaction (default {maintenance.DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args, dry_run: bool, batch_size: int, verbosity: int, **options) -> None:
        def progress(count: int) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  batch: deleted {count}")

        count = maintenance.purge_expired(batch_size=batch_size, dry_run=dry_run, on_batch=progress)
        tasks = maintenance.prune_email_tasks(dry_run=dry_run)
        days = maintenance.EMAIL_TASK_RETENTION.days
        if dry_run:
            self.stdout.write(f"Would delete {count} expired sessions (dry run).")
            self.stdout.write(
                f"Would delete {tasks} finished security email tasks older than {days} days."
            )
        else:
            self.stdout.write(f"Deleted {count} expired sessions.")
            self.stdout.write(
                f"Deleted {tasks} finished security email tasks older than {days} days."
            )
