"""Security events: signals from the service, lines in the ``security`` log, no tokens."""

import json
import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tokens import audit, maintenance, services, signals
from tokens.errors import RefreshTokenInvalid
from tokens.models import RefreshToken, RevokeReason
from tokens.tests.factories import make_sessions
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """Every session signal sent during the test, as (signal name, kwargs)."""
    events = []
    names = {
        signals.session_created: "session_created",
        signals.session_rotated: "session_rotated",
        signals.session_revoked: "session_revoked",
        signals.replay_detected: "replay_detected",
    }

    def receiver(sender, signal, **kwargs):
        events.append((names[signal], kwargs))

    for signal in names:
        signal.connect(receiver, dispatch_uid="test-received")
    yield events
    for signal in names:
        signal.disconnect(dispatch_uid="test-received")


def security_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "security"]


def test_full_flow_emits_each_event_and_logs_no_token(api, user, caplog, received):
    caplog.set_level(logging.INFO, logger="security")
    secrets = []
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        first = api.post(
            "/api/auth/login",
            {"email": user.get_username(), "password": PASSWORD},
            format="json",
            REMOTE_ADDR="203.0.113.7",
        )
        stale_cookie = first.cookies["refresh_token"].value
        secrets += [first.json()["access_token"], stale_cookie]
    with time_machine.travel(t0 + timedelta(seconds=1), tick=False):
        second = api.post("/api/auth/refresh", REMOTE_ADDR="203.0.113.8")
        assert second.status_code == 200
        secrets += [second.json()["access_token"], second.cookies["refresh_token"].value]
    with time_machine.travel(t0 + timedelta(minutes=5), tick=False):
        api.cookies["refresh_token"] = stale_cookie
        replay = api.post("/api/auth/refresh", REMOTE_ADDR="198.51.100.9")
        assert replay.json() == {"detail": "REFRESH_TOKEN_INVALID"}

    session_id = str(first_session_id := RefreshToken.objects.get().id)
    assert [name for name, _ in received] == [
        "session_created",
        "session_rotated",
        "replay_detected",
        "session_revoked",
    ]
    assert received[-1][1]["reason"] == RevokeReason.REPLAY
    assert [s.id for s in received[-1][1]["sessions"]] == [first_session_id]

    records = security_records(caplog)
    by_event = {r.event: r for r in records}
    assert set(by_event) == {name for name, _ in received}
    assert by_event["replay_detected"].levelno == logging.WARNING
    assert all(r.levelno == logging.INFO for r in records if r.event != "replay_detected")
    assert by_event["session_created"].ip_address == "203.0.113.7"
    assert by_event["session_rotated"].ip_address == "203.0.113.8"
    assert by_event["replay_detected"].ip_address == "198.51.100.9"
    assert by_event["session_revoked"].reason == "replay"
    for record in records:
        assert record.session_id == session_id
        assert record.user_id == str(user.id)
        assert session_id in record.getMessage()

    # No token, nor any piece of one (a JWT's payload or signature), in any record.
    pieces = set(secrets)
    for token in secrets:
        pieces.update(part for part in token.split(".") if len(part) > 16)
        pieces.update(token[i : i + 16] for i in range(0, len(token) - 16, 8))
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        leaked = [piece for piece in pieces if piece in text]
        assert not leaked, (record.getMessage(), leaked)


@pytest.mark.parametrize(
    ("revoke", "reason"),
    [
        (lambda user, s: services.logout_all(user), "logout_all"),
        (lambda user, s: maintenance.revoke_sessions([s.id], reason=RevokeReason.ADMIN), "admin"),
        (lambda user, s: maintenance.revoke_users([user], reason=RevokeReason.ADMIN), "admin"),
        (lambda user, s: services.revoke_own_session(user, s.id), "revoked"),
        (
            lambda user, s: len(RefreshToken.objects.filter(pk=s.pk).revoke(RevokeReason.REPLAY)),
            "replay",
        ),
    ],
)
def test_every_revocation_path_logs_the_reason(user, caplog, received, revoke, reason):
    caplog.set_level(logging.INFO, logger="security")
    session = services.start_session(user, ip_address="192.0.2.1").session
    assert revoke(user, session) == 1
    (record,) = [r for r in security_records(caplog) if r.event == "session_revoked"]
    assert (record.reason, record.session_id, record.ip_address) == (
        reason,
        str(session.id),
        "192.0.2.1",
    )
    assert f"reason={reason}" in record.getMessage()


@pytest.mark.parametrize("count", [3, 30])
def test_bulk_revocation_is_one_query_and_one_event(user, received, count):
    make_sessions(user, count)
    with CaptureQueriesContext(connection) as ctx:
        assert services.logout_all(user) == count
    assert len(ctx.captured_queries) == 1
    ((name, kwargs),) = received
    assert name == "session_revoked"
    assert len(kwargs["sessions"]) == count


def test_nothing_revoked_sends_nothing(user, received):
    assert services.logout_all(user) == 0
    assert received == []


def test_revoke_touches_only_the_live_sessions_it_is_given(user, received):
    """The primitive itself (every path above goes through it): an expired or an
    already revoked session keeps what it has, and the one signal names only the rest."""
    live = make_sessions(user, 2)
    (expired,) = make_sessions(user, 1, expires_in=timedelta(days=-1))
    (earlier,) = make_sessions(user, 1, revoke_reason=RevokeReason.LOGOUT)
    RefreshToken.objects.filter(pk=earlier.pk).update(revoked_at=timezone.now())
    revoked = RefreshToken.objects.filter(user=user).revoke(RevokeReason.ADMIN)
    assert {s.id for s in revoked} == {s.id for s in live}
    ((name, kwargs),) = received
    assert (name, kwargs["sessions"], kwargs["reason"]) == ("session_revoked", revoked, "admin")
    rows = dict(RefreshToken.objects.values_list("pk", "revoke_reason"))
    assert rows[expired.pk] == "" and rows[earlier.pk] == RevokeReason.LOGOUT


def test_revoke_for_one_user_touches_only_that_users_sessions(user, make_user):
    """``user_id`` names the owner to the planner (tokens.sql.revoke); it is a condition
    too, so the statement never revokes another user's session."""
    other = make_user("bob@example.com")
    mine, (theirs,) = make_sessions(user, 2), make_sessions(other, 1)
    revoked = RefreshToken.objects.all().revoke(RevokeReason.ADMIN, user_id=user.pk)
    assert {s.id for s in revoked} == {s.id for s in mine}
    assert RefreshToken.objects.get(pk=theirs.pk).revoked_at is None


def test_replay_through_the_service(user, caplog, received):
    caplog.set_level(logging.INFO, logger="security")
    t0 = timezone.now()
    issued = services.start_session(user, now=t0)
    services.refresh(issued.refresh_token, now=t0)
    with pytest.raises(RefreshTokenInvalid):
        services.refresh(issued.refresh_token, ip_address="192.0.2.66", now=t0 + timedelta(hours=1))
    (warning,) = [r for r in security_records(caplog) if r.levelno == logging.WARNING]
    assert warning.event == "replay_detected"
    assert (warning.presented_generation, warning.current_generation) == ("1", "2")
    assert RefreshToken.objects.get().revoke_reason == RevokeReason.REPLAY


def test_json_lines_formatter(user, caplog):
    caplog.set_level(logging.INFO, logger="security")
    session = services.start_session(user, ip_address="192.0.2.1").session
    (record,) = security_records(caplog)
    line = json.loads(audit.JsonLinesFormatter().format(record))
    assert line["event"] == "session_created"
    assert line["level"] == "INFO"
    assert (line["user_id"], line["session_id"], line["ip_address"]) == (
        str(user.id),
        str(session.id),
        "192.0.2.1",
    )
