"""Bulk work on sessions, for the admin and the management commands: revoke many at
once and purge the expired (and the security emails' old task rows). No HTTP in here;
each function writes with one set-based statement per batch (a batch's bound is one
indexed read), whatever the number of rows. Every revocation is
``RefreshTokenQuerySet.revoke``; these only choose the sessions.
"""

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.apps import apps
from django.db import router, transaction
from django.db.models import QuerySet
from django.utils import timezone

from tokens.models import RefreshToken

# Rows per batch of the purge and of a revoke-everything, each batch one transaction:
# larger batches cost fewer commits, smaller ones hold SQLite's one write lock for less
# time. docs/performance.md ("Benchmark: the purge and the admin") has the measurements
# behind 20,000.
DEFAULT_BATCH_SIZE = 20_000

# The security emails' task (tokens.notifications) and how long its finished rows stay in
# django-tasks-db's table (the admin shows them, with a failed send's traceback).
SECURITY_EMAIL_TASK = "tokens.notifications.send_security_email"
EMAIL_TASK_RETENTION = timedelta(days=14)


def revoke_sessions(
    sessions: QuerySet | Iterable[uuid.UUID], *, reason: str, now: datetime | None = None
) -> int:
    """Revoke the live ones among these sessions (a queryset or ids); returns how many."""
    if isinstance(sessions, QuerySet):
        sessions = sessions.values("pk")
    else:
        sessions = list(sessions)
    return len(RefreshToken.objects.filter(pk__in=sessions).revoke(reason, now))


def revoke_users(users: QuerySet | Iterable, *, reason: str, now: datetime | None = None) -> int:
    """Revoke every live session of these users (a queryset, users or ids) in one UPDATE;
    returns how many. An admin action on a page of users costs one statement, not one
    per user."""
    if isinstance(users, QuerySet):
        users = users.values("pk")
    else:
        users = [getattr(user, "pk", user) for user in users]
    return len(RefreshToken.objects.filter(user__in=users).revoke(reason, now))


def revoke_every_session(
    *, reason: str, batch_size: int = DEFAULT_BATCH_SIZE, now: datetime | None = None
) -> int:
    """Revoke every live session of every user (incident response); returns how many.

    In primary-key batches, each one UPDATE in its own transaction: a million sessions
    never sit in one long transaction or in memory at once.
    """
    now = now or timezone.now()
    live = RefreshToken.objects.live(now)
    batches = live.keyset_batches(("pk",), batch_size)
    return sum(len(batch.revoke(reason, now)) for batch in batches)


def purge_expired(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    now: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Delete the sessions past their idle or absolute expiry; returns how many.

    ``expires_at`` is the idle expiry capped at the absolute one, so ``expires_at <= now``
    is the whole condition (and is indexed). Batches are ranges of the unique key
    ``(expires_at, pk)``, each deleted by one ``DELETE ... WHERE key range AND
    expires_at <= now`` in its own short transaction, with no model instance loaded
    (nothing cascades from a session, no signal is expected): memory stays flat
    whatever the row count. The expiry is
    re-checked by the DELETE itself, so a session refreshed while the purge runs is
    never deleted. ``dry_run`` only counts. ``on_batch`` gets each batch's count.
    """
    now = now or timezone.now()
    expired = RefreshToken.objects.purgeable(now).order_by()
    # Walked in expiry order, the primary key breaking ties, rather than by the
    # (random UUID) primary key alone: rows expire roughly in the order they were
    # written, so each batch deletes from neighbouring table pages; in UUID order
    # every batch touched pages all over the table (about 4x slower on SQLite).
    if dry_run:
        return expired.count()
    using = router.db_for_write(RefreshToken)
    deleted = 0
    for batch in expired.keyset_batches(("expires_at", "pk"), batch_size):
        with transaction.atomic(using=using):
            # _raw_delete: the single DELETE statement that QuerySet.delete() would run
            # on its fast path, without the Collector (which would load every row if a
            # delete signal receiver or a cascading relation were ever added).
            count = batch._raw_delete(using)
        deleted += count
        if on_batch is not None:
            on_batch(count)
    return deleted


def prune_email_tasks(*, dry_run: bool = False, now: datetime | None = None) -> int:
    """Delete the security emails' task rows that finished (sent, skipped or failed)
    more than EMAIL_TASK_RETENTION ago; returns how many. Queued and running tasks and
    other apps' tasks stay; nothing to do without django-tasks-db."""
    if not apps.is_installed("django_tasks_db"):
        return 0
    from django_tasks_db.models import DBTaskResult

    finished = DBTaskResult.objects.finished().filter(
        task_path=SECURITY_EMAIL_TASK,
        finished_at__lt=(now or timezone.now()) - EMAIL_TASK_RETENTION,
    )
    if dry_run:
        return finished.count()
    # A few rows per user and day at most (SECURITY_NOTIFICATION_RATE): one DELETE.
    return finished.delete()[0]
