"""Security notifications: who is emailed when, what the email says and never says, and
that email trouble never reaches a login, a refresh or a password change.

Tasks run at once here (ImmediateBackend, conftest.py) into Django's ``mail.outbox``;
``committed()`` runs what the request's transaction queued for after its commit, as
production's commit does.
"""

import logging
import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from rest_framework.test import APIClient

from tokens import notifications, services
from tokens.errors import RefreshTokenInvalid
from tokens.tests.factories import make_sessions
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

ADDRESS = "alice@example.com"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
SESSIONS_URL = "https://auth.example.com/#sessions"
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _sessions_url(settings):
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATION_SESSIONS_URL": SESSIONS_URL}


@pytest.fixture
def person(make_user):
    """A user with an email address, whatever the user model (the stock User's login
    name is a username, its email a separate field)."""
    user = make_user(ADDRESS)
    setattr(user, get_user_model().get_email_field_name(), ADDRESS)
    user.save(update_fields=[get_user_model().get_email_field_name()])
    return user


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the block queued for after its commit, at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def sign_in(committed):
    """Log in from a browser (a user agent), committed; returns the response."""

    def do(user_agent: str = FIREFOX, ip: str = "198.51.100.7", user=None):
        client = APIClient(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
        with committed():
            response = client.post(
                "/api/auth/login",
                {"email": user.get_username() if user else ADDRESS, "password": PASSWORD},
                format="json",
            )
        assert response.status_code == 200, response.content
        response.client = client
        return response

    return do


def texts(message) -> list[str]:
    """Everything a recipient can read: subject, plain body, each alternative."""
    return [message.subject, message.body, *(content for content, _ in message.alternatives)]


# --- a sign-in from a new device -------------------------------------------------------


def test_a_sign_in_from_a_new_device_is_emailed(person, sign_in, mailoutbox):
    sign_in(FIREFOX, ip="198.51.100.7")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [ADDRESS]
    assert message.subject == "New sign-in to your account from Firefox on Linux"
    for text in (message.body, message.alternatives[0][0]):
        assert "Firefox on Linux" in text
        assert "198.51.100.7" in text
        assert " UTC" in text
        assert SESSIONS_URL in text
    assert message.alternatives[0][1] == "text/html"


def test_a_sign_in_from_a_known_device_is_not(person, sign_in, mailoutbox):
    sign_in(FIREFOX)
    sign_in(FIREFOX, ip="203.0.113.9")  # same browser and system, another address
    assert [m.subject for m in mailoutbox] == ["New sign-in to your account from Firefox on Linux"]
    sign_in(CHROME_MAC)
    assert len(mailoutbox) == 2
    assert "Chrome on Mac OS X" in mailoutbox[1].subject


def test_a_revoked_or_expired_session_still_counts_as_seen(person, sign_in, mailoutbox):
    make_sessions(person, 1, device="Firefox on Linux", expires_in=timedelta(days=-1))
    make_sessions(person, 1, device="Chrome on Mac OS X")
    services.logout_all(person)
    sign_in(FIREFOX)
    sign_in(CHROME_MAC)
    assert mailoutbox == []


def test_a_purged_session_is_forgotten(person, sign_in, mailoutbox):
    from tokens.models import RefreshToken

    sign_in(FIREFOX)
    RefreshToken.objects.all().delete()  # what purge_expired_tokens does to old rows
    sign_in(FIREFOX)
    assert len(mailoutbox) == 2


def test_the_new_device_email_can_be_turned_off(person, sign_in, mailoutbox):
    notifications.set_preferences(person, new_device=False)
    sign_in(FIREFOX)
    assert mailoutbox == []
    notifications.set_preferences(person, new_device=True)
    sign_in(CHROME_MAC)
    assert len(mailoutbox) == 1


def test_an_opt_out_after_a_sign_in_does_not_silence_that_sign_ins_email(
    person, mailoutbox, django_capture_on_commit_callbacks
):
    # A thief who knows the password signs in from their own device and, before the
    # worker sends the new-device email, turns that email off with the fresh token.
    thief = APIClient(HTTP_USER_AGENT=CHROME_MAC, REMOTE_ADDR="203.0.113.9")
    with time_machine.travel(T0, tick=False) as clock:
        with django_capture_on_commit_callbacks() as queued:
            response = thief.post(
                "/api/auth/login", {"email": ADDRESS, "password": PASSWORD}, format="json"
            )
        clock.shift(timedelta(seconds=1))
        token = response.json()["access_token"]
        turned_off = thief.put(
            "/api/auth/notifications",
            {"new_device": False},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert turned_off.status_code == 200
        for callback in queued:  # the worker gets to the queued email only now
            callback()
    assert len(mailoutbox) == 1
    assert "203.0.113.9" in mailoutbox[0].body


def test_an_opt_out_applies_to_the_sign_ins_after_it(person, sign_in, mailoutbox):
    with time_machine.travel(T0, tick=False) as clock:
        notifications.set_preferences(person, new_device=False)
        clock.shift(timedelta(seconds=1))
        sign_in(FIREFOX)
    assert mailoutbox == []


def test_one_user_gets_a_bounded_number_of_security_emails(
    person, make_user, settings, sign_in, mailoutbox, committed, caplog
):
    # Without email verification anyone can register a victim's address, and each
    # browser and system named in a user agent is a device never seen: logins and
    # password saves would otherwise mail the victim as fast as the login limit allows.
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATION_RATE": "3/h"}
    for system in ("X11; Linux x86_64", "Windows NT 10.0", "X11; FreeBSD amd64", "X11; OpenBSD"):
        sign_in(f"Mozilla/5.0 ({system}; rv:128.0) Gecko/20100101 Firefox/128.0")
    assert len(mailoutbox) == 3
    assert "security email skipped: over SECURITY_NOTIFICATION_RATE" in caplog.text
    # Each kind of event has its own budget: the flood of new-device emails does not
    # silence the password email (nor the theft email), which is capped on its own.
    for i in range(4):
        with committed():
            person.set_password(f"another-long-password-{i}")
            person.save()
    assert len(mailoutbox) == 6
    assert "password" in mailoutbox[3].subject.lower()
    # another user's budget is their own
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATION_RATE": "100/h"}
    other = make_user("bob@example.com")
    setattr(other, get_user_model().get_email_field_name(), "bob@example.com")
    other.save(update_fields=[get_user_model().get_email_field_name()])
    sign_in(FIREFOX, user=other)
    assert len(mailoutbox) == 7
    assert mailoutbox[-1].to == ["bob@example.com"]


def test_an_email_over_the_budget_leaves_no_task_row(person, settings, committed, caplog):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATION_RATE": "2/h"}
    for _ in range(5):
        with committed():
            notifications.notify(notifications.NEW_DEVICE, person.pk, device="Firefox on Linux")
    # Two emails queued; the three over the budget skipped before the queue, and logged.
    assert DBTaskResult.objects.count() == 2
    assert caplog.text.count("security email skipped: over SECURITY_NOTIFICATION_RATE") == 3


def test_a_user_without_an_address_gets_nothing_and_nothing_breaks(make_user, mailoutbox):
    user = make_user("bob@example.com")
    setattr(user, get_user_model().get_email_field_name(), "")
    user.save()
    result = notifications.deliver(notifications.NEW_DEVICE, str(user.pk), _details())
    assert result == notifications.NO_ADDRESS
    assert mailoutbox == []


def test_a_deleted_user_gets_nothing(person, mailoutbox):
    user_id = str(person.pk)
    person.delete()
    assert notifications.deliver(notifications.REPLAY, user_id, _details()) == (
        notifications.NO_USER
    )
    assert mailoutbox == []


def test_a_rolled_back_login_sends_nothing(person, mailoutbox, committed):
    with committed():
        with pytest.raises(RuntimeError), transaction.atomic():
            services.start_session(person, user_agent=FIREFOX)
            raise RuntimeError("the caller's transaction fails")
    assert mailoutbox == []


# --- a stolen refresh token -------------------------------------------------------------


def replay(response, committed) -> str:
    """Present the login's refresh token again after two rotations (a replay); returns
    the live token it ended."""
    client = response.client
    first = response.cookies["refresh_token"].value
    assert client.post("/api/auth/refresh").status_code == 200
    assert client.post("/api/auth/refresh").status_code == 200
    live = client.cookies["refresh_token"].value
    client.cookies["refresh_token"] = first
    with committed():
        answer = client.post("/api/auth/refresh", REMOTE_ADDR="203.0.113.66")
    assert answer.status_code == 401
    return live


def test_a_replay_is_emailed_with_the_device_and_the_address_it_came_from(
    person, sign_in, mailoutbox, committed
):
    response = sign_in(FIREFOX)
    mailoutbox.clear()
    replay(response, committed)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.subject == "Security alert: a session of your account was ended"
    for text in (message.body, message.alternatives[0][0]):
        assert "Firefox on Linux" in text
        assert "203.0.113.66" in text  # where the old token came from
        assert SESSIONS_URL in text
    assert "turn off" not in message.body  # it cannot be turned off


def test_the_theft_email_ignores_the_opt_out(person, sign_in, mailoutbox, committed):
    notifications.set_preferences(person, new_device=False)
    replay(sign_in(FIREFOX), committed)
    assert [m.subject for m in mailoutbox] == [
        "Security alert: a session of your account was ended"
    ]


def test_a_retry_inside_the_reuse_interval_is_no_theft(person, sign_in, mailoutbox, committed):
    response = sign_in(FIREFOX)
    mailoutbox.clear()
    client = response.client
    first = response.cookies["refresh_token"].value
    assert client.post("/api/auth/refresh").status_code == 200
    client.cookies["refresh_token"] = first
    with committed():
        assert client.post("/api/auth/refresh").status_code == 200
    assert mailoutbox == []


def test_a_replay_through_the_service(person, mailoutbox, committed):
    issued = services.start_session(person, user_agent=FIREFOX)
    services.refresh(issued.refresh_token)
    mailoutbox.clear()
    with committed(), pytest.raises(RefreshTokenInvalid):
        services.refresh(issued.refresh_token, now=issued.session.created_at + timedelta(hours=1))
    assert len(mailoutbox) == 1


# --- a password change --------------------------------------------------------------------


def test_set_password_and_save_is_emailed(person, mailoutbox, committed):
    with committed():
        person.set_password("changed in a shell")
        person.save()
    assert [m.subject for m in mailoutbox] == ["The password of your account was changed"]


def test_the_password_email_offers_only_what_the_person_can_do(person, mailoutbox, committed):
    # There is no password reset: the email must not send anyone looking for one.
    with committed():
        person.set_password("changed in a shell")
        person.save()
    [message] = mailoutbox
    for text in texts(message)[1:]:
        assert "reset your password" not in text.lower()
        assert "There is no password reset here" in text
        assert "administrators" in text
        assert "sign in" in text and "end any session you do not recognise" in text
        assert SESSIONS_URL in text
    assert f'<a href="{SESSIONS_URL}">your sessions page</a>' in texts(message)[2]


def test_the_opt_out_does_not_silence_the_password_email(person, mailoutbox, committed):
    notifications.set_preferences(person, new_device=False)
    with committed():
        person.set_password("changed in a shell")
        person.save()
    assert len(mailoutbox) == 1


def test_a_save_without_a_new_password_is_not_a_change(person, mailoutbox, committed):
    with committed():
        person.is_active = True
        person.save()  # every field, the password too, unchanged
        person.save(update_fields=["password"])
    assert mailoutbox == []


def test_a_new_user_gets_no_password_email(make_user, mailoutbox, committed):
    with committed():
        make_user("newcomer@example.com")  # create_user(): set_password() and a first save
    assert mailoutbox == []


def test_djangos_hash_upgrade_at_login_is_not_a_change(person, settings, mailoutbox, committed):
    # The user's hash is of an older hasher; checking the password rehashes and saves it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher"]
    person.set_password(PASSWORD)
    person.save()
    mailoutbox.clear()
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
    before = person.password
    with committed():
        assert person.check_password(PASSWORD)
    person.refresh_from_db()
    assert person.password != before  # upgraded, and saved
    assert mailoutbox == []


def test_a_rolled_back_password_change_sends_nothing(person, mailoutbox, committed):
    with committed():
        with pytest.raises(RuntimeError), transaction.atomic():
            person.set_password("never committed")
            person.save()
            raise RuntimeError("the migration fails")
    assert mailoutbox == []


# --- what an email never holds ---------------------------------------------------------


def test_no_email_holds_a_token_or_the_password_hash(person, sign_in, mailoutbox, committed):
    secrets = []
    response = sign_in(FIREFOX)
    secrets += [response.json()["access_token"], response.cookies["refresh_token"].value]
    secrets.append(replay(response, committed))
    with committed():
        person.set_password("a new passphrase here")
        person.save()
    secrets += [person.password, "a new passphrase here", PASSWORD]
    subjects = [m.subject for m in mailoutbox]
    assert len(subjects) == 3, subjects
    for message in mailoutbox:
        for text in texts(message):
            for secret in secrets:
                assert secret not in text
                assert secret.split("$")[-1] not in text  # no part of the hash either


# --- email trouble stays off the request path -------------------------------------------


class FailingBackend(BaseEmailBackend):
    """An SMTP server that refuses every message; counts the attempts."""

    attempts = 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")


class FlakyBackend(BaseEmailBackend):
    """Fails the first attempt, then delivers into ``delivered``."""

    attempts = 0
    delivered: list = []

    def send_messages(self, email_messages):
        type(self).attempts += 1
        if type(self).attempts == 1:
            raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")
        type(self).delivered.extend(email_messages)
        return len(email_messages)


def test_a_failing_email_server_breaks_no_login_and_is_retried_up_to_the_bound(
    person, settings, sign_in, caplog
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATION_MAX_ATTEMPTS": 3}
    FailingBackend.attempts = 0
    with caplog.at_level(logging.WARNING, logger="tokens.notifications"):
        sign_in(FIREFOX)  # 200 all the same
    assert FailingBackend.attempts == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "tokens.notifications"]
    assert "attempt=1 of 3" in lines[0] and "attempt=2 of 3" in lines[1]
    assert "given up" in lines[2] and "after 3 attempts" in lines[2]


def test_a_send_that_fails_once_is_delivered_by_the_next_attempt(person, settings, sign_in):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.attempts, FlakyBackend.delivered = 0, []
    sign_in(FIREFOX)
    assert FlakyBackend.attempts == 2
    assert [m.subject for m in FlakyBackend.delivered] == [
        "New sign-in to your account from Firefox on Linux"
    ]


def test_a_retry_waits_in_the_database_queue(person, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATION_RETRY_DELAY": timedelta(minutes=1)}
    with pytest.raises(smtplib.SMTPServerDisconnected):  # recorded as a failed attempt
        notifications.deliver(notifications.REPLAY, str(person.pk), _details(), attempt=2)
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "tokens.notifications.send_security_email"
    assert queued.args_kwargs["args"][3] == 3  # the attempt counter
    wait = queued.run_after - queued.enqueued_at
    assert timedelta(minutes=2) - timedelta(seconds=5) < wait <= timedelta(minutes=2)


def test_a_queue_that_cannot_be_written_breaks_no_login(person, sign_in, monkeypatch, caplog):
    from django_tasks.backends.immediate import ImmediateBackend

    def broken(*args, **kwargs):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(ImmediateBackend, "enqueue", broken)
    with caplog.at_level(logging.ERROR, logger="tokens.notifications"):
        sign_in(FIREFOX)
    [record] = [r for r in caplog.records if r.name == "tokens.notifications"]
    assert "security email not queued: event=new_device" in record.getMessage()


def test_the_retry_delays_double():
    assert [notifications.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [
        60,
        120,
        240,
        480,
    ]


def _details() -> dict:
    return {"device": "Firefox on Linux", "ip_address": "198.51.100.7", "occurred_at": _now()}


def _now() -> str:
    from django.utils import timezone

    return timezone.now().isoformat()
