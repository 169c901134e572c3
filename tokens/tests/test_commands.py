"""purge_expired_tokens and revoke_sessions: thin doors, tested through call_command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from tokens import crypto, maintenance, services
from tokens.management.commands.revoke_sessions import Command as RevokeSessions
from tokens.models import RefreshToken, RevokeReason
from tokens.tests.factories import make_sessions

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def mixed(user, make_user):
    """Expired (revoked or not), live, and revoked-but-unexpired sessions of two users."""
    bob = make_user("bob@example.com")
    expired = make_sessions(user, 7, expires_in=-timedelta(minutes=1))
    expired += make_sessions(
        bob, 3, expires_in=-timedelta(days=2), revoked_at=timezone.now(), revoke_reason="logout"
    )
    live = make_sessions(user, 4) + make_sessions(bob, 2)
    revoked_live = make_sessions(
        bob, 2, revoked_at=timezone.now(), revoke_reason=RevokeReason.LOGOUT
    )
    return {"expired": expired, "live": live, "revoked_live": revoked_live, "bob": bob}


def ids(sessions) -> set:
    return {s.id for s in sessions}


class TestPurge:
    def test_deletes_expired_keeps_live_and_revoked_unexpired(self, mixed):
        out = run("purge_expired_tokens")
        assert out.splitlines()[0] == "Deleted 10 expired sessions."
        left = set(RefreshToken.objects.values_list("id", flat=True))
        assert left == ids(mixed["live"]) | ids(mixed["revoked_live"])

    def test_dry_run_counts_and_deletes_nothing(self, mixed):
        before = RefreshToken.objects.count()
        out = run("purge_expired_tokens", "--dry-run")
        assert "Would delete 10 expired sessions" in out
        assert RefreshToken.objects.count() == before

    def test_batch_size_is_honoured(self, user):
        make_sessions(user, 25, expires_in=-timedelta(seconds=1))
        batches = []
        deleted = maintenance.purge_expired(batch_size=10, on_batch=batches.append)
        assert deleted == 25
        assert batches == [10, 10, 5]

    def test_batches_cross_ties_of_expiry_without_skipping_or_repeating(self, user):
        # Batches are ranges of (expires_at, id): bounds fall inside groups of equal
        # expiry, and every row is still deleted exactly once.
        now = timezone.now()
        for minutes in (3, 2, 1):
            make_sessions(user, 4, now=now, expires_in=-timedelta(minutes=minutes))
        batches = []
        assert maintenance.purge_expired(batch_size=5, now=now, on_batch=batches.append) == 12
        assert batches == [5, 5, 2]
        assert not RefreshToken.objects.exists()

    def test_batch_size_option_reaches_the_service(self, user):
        make_sessions(user, 7, expires_in=-timedelta(seconds=1))
        out = run("purge_expired_tokens", "--batch-size", "3", "-v", "2")
        assert out.count("batch: deleted") == 3
        assert "Deleted 7 expired sessions." in out

    def test_batch_size_must_be_positive(self):
        with pytest.raises(CommandError):
            call_command("purge_expired_tokens", "--batch-size", "0")

    def test_each_batch_is_one_delete_and_no_row_is_loaded(self, user, django_assert_num_queries):
        make_sessions(user, 30, expires_in=-timedelta(seconds=1))
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            maintenance.purge_expired(batch_size=10)
        statements = [q["sql"].lstrip().split()[0].upper() for q in ctx.captured_queries]
        assert statements.count("DELETE") == 4  # 3 full batches + the empty tail
        # No SELECT of whole rows: only the key that bounds each batch.
        for q in ctx.captured_queries:
            if q["sql"].lstrip().upper().startswith("SELECT"):
                assert "user_agent" not in q["sql"]

    def test_recently_refreshed_session_is_kept(self, user):
        t0 = timezone.now()
        issued = services.start_session(user, now=t0)
        # Its first idle expiry has passed by the purge, but it was refreshed before.
        services.refresh(issued.refresh_token, now=t0 + timedelta(days=6))
        maintenance.purge_expired(now=t0 + timedelta(days=8))
        assert RefreshToken.objects.filter(pk=issued.session.pk).exists()
        maintenance.purge_expired(now=t0 + timedelta(days=14))
        assert not RefreshToken.objects.filter(pk=issued.session.pk).exists()

    def test_the_delete_rechecks_the_expiry(self, user):
        """A refresh that lands between choosing a batch and deleting it wins."""
        now = timezone.now()
        doomed = make_sessions(user, 3, expires_in=-timedelta(seconds=1))
        saved = doomed[1]
        fired = []

        def refresh_just_before_delete(execute, sql, params, many, context):
            if sql.lstrip().upper().startswith("DELETE") and not fired:
                fired.append(sql)
                RefreshToken.objects.filter(pk=saved.pk).update(expires_at=now + timedelta(days=7))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(refresh_just_before_delete):
            deleted = maintenance.purge_expired(batch_size=10, now=now)
        assert fired
        assert deleted == 2
        assert list(RefreshToken.objects.values_list("id", flat=True)) == [saved.pk]


class TestPruneEmailTasks:
    """The security emails' finished task rows go with the sessions' purge, two weeks
    after they finished; queued, running and other apps' tasks stay."""

    @staticmethod
    def task(status: str, finished_days_ago: float | None, path: str = "") -> str:
        from django_tasks_db.models import DBTaskResult

        now = timezone.now()
        row = DBTaskResult.objects.create(
            status=status,
            args_kwargs={"args": [], "kwargs": {}},
            task_path=path or "tokens.notifications.send_security_email",
            backend_name="default",
            run_after=now,
            finished_at=None if finished_days_ago is None else now - timedelta(finished_days_ago),
        )
        return str(row.pk)

    def test_finished_email_tasks_older_than_two_weeks_are_deleted(self):
        from django_tasks_db.models import DBTaskResult

        old = [self.task("SUCCESSFUL", 15), self.task("FAILED", 30)]
        kept = [
            self.task("SUCCESSFUL", 13),
            self.task("FAILED", 1),
            self.task("READY", None),
            self.task("RUNNING", None),
            self.task("SUCCESSFUL", 60, path="someone.elses.task"),
        ]
        assert "Would delete 2 finished security email tasks" in run(
            "purge_expired_tokens", "--dry-run"
        )
        assert DBTaskResult.objects.count() == 7
        out = run("purge_expired_tokens")
        assert "Deleted 2 finished security email tasks" in out
        left = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
        assert left == set(kept)
        assert not set(old) & left


class TestRevokeSessions:
    def test_user_revokes_their_live_sessions(self, mixed, user):
        out = run("revoke_sessions", "--user", "alice@example.com")
        assert out.strip() == "Revoked 4 sessions of alice@example.com."
        alice_live = RefreshToken.objects.live().filter(user=user)
        assert not alice_live.exists()
        revoked = RefreshToken.objects.filter(pk__in=ids(mixed["live"]), user=user)
        assert set(revoked.values_list("revoke_reason", flat=True)) == {RevokeReason.ADMIN}
        assert RefreshToken.objects.live().filter(user=mixed["bob"]).count() == 2

    def test_all_revokes_everyone(self, mixed):
        out = run("revoke_sessions", "--all")
        assert out.strip() == "Revoked 6 sessions of all users."
        assert not RefreshToken.objects.live().exists()
        # Sessions revoked earlier keep their own reason.
        kept = RefreshToken.objects.filter(pk__in=ids(mixed["revoked_live"]))
        assert set(kept.values_list("revoke_reason", flat=True)) == {RevokeReason.LOGOUT}

    def test_revoke_everything_in_batches(self, user):
        make_sessions(user, 7)
        assert maintenance.revoke_every_session(reason=RevokeReason.ADMIN, batch_size=3) == 7
        assert not RefreshToken.objects.live().exists()

    def test_unknown_email_is_an_error(self, mixed):
        with pytest.raises(CommandError, match=r"nobody@example\.com"):
            call_command("revoke_sessions", "--user", "nobody@example.com")
        assert RefreshToken.objects.live().count() == 6

    def test_unknown_email_exits_non_zero(self, mixed, capsys):
        # run_from_argv is what manage.py runs, minus django.setup(), which would
        # reconfigure logging onto this test's soon-closed stderr.
        with pytest.raises(SystemExit) as exit_info:
            RevokeSessions().run_from_argv(
                ["manage.py", "revoke_sessions", "--user", "nobody@example.com"]
            )
        assert exit_info.value.code != 0
        assert "No user with the login name" in capsys.readouterr().err

    def test_needs_user_or_all(self):
        with pytest.raises(CommandError):
            call_command("revoke_sessions")

    def test_revoked_sessions_are_dead_for_both_tokens(self, api, user, login, bearer):
        response = login()
        cookie = response.cookies["refresh_token"].value
        assert crypto.decode(cookie) is not None
        run("revoke_sessions", "--user", user.get_username())
        assert api.get("/api/users/me", **bearer(response)).status_code == 401
        assert api.post("/api/auth/refresh").status_code == 401
