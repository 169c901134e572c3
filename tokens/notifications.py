"""Security notifications: an email to the user when their account signs in from a
device it never used, when a stolen refresh token ended a session (a replay), and when
their password changed.

The request path only queues (``notify``): once its transaction commits, one task
(``send_security_email``) goes to the django-tasks backend (the database queue in this
project, one INSERT) and a worker (``manage.py task_worker``) renders and sends the email
with Django's email framework. A queued task is stored by its path
(``tokens.notifications.send_security_email``) and its arguments: keep both stable, or
tasks already in the queue cannot run.

Nothing here raises into a login, a refresh or a password change: a queue that cannot
be written is logged (that email is lost), and a send that fails is tried again later,
up to SECURITY_NOTIFICATION_MAX_ATTEMPTS times in all. Each email has one Message-ID,
made when it is queued and kept by every attempt. A send that failed after the mail
server had the whole message (it never answered "250") may have gone through: it is
sent once more, not up to the limit, and logged as such. A retry that cannot be queued
raises the database's error, so that ``manage.py task_worker`` runs the attempt again.

A queued task carries the event, the user's id, a device name, an IP address, a
time and the email's Message-ID, and is stored as such in the queue's table: never a
token, never a password hash.
Only the new-device email can be turned off (``NotificationPreference``).

The emails are the "emails" extra (django-tasks): SECURITY_NOTIFICATIONS is on by
default when it is installed, off when it is not, and then ``notify`` does nothing.
"""

import functools
import logging
import smtplib
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import punycode
from django_ratelimit.core import get_usage

from tokens import extras
from tokens.models import NotificationPreference
from tokens.settings import tokens_settings

NEW_DEVICE = "new_device"
REPLAY = "replay"
PASSWORD_CHANGED = "password_changed"
EVENTS = (NEW_DEVICE, REPLAY, PASSWORD_CHANGED)

# What a task returns when it sent nothing, and why (stored as the task's result).
SENT = "sent"
NO_USER = "skipped: the user is gone"
NO_ADDRESS = "skipped: the user has no email address"
OPTED_OUT = "skipped: the user turned this email off"
UNCONFIRMED = "unconfirmed: the mail server took the message and never answered"
UNCONFIRMED_RETRIED = "unconfirmed: the mail server never answered; sent once more"

# Sends at most of one email that the mail server took without answering: the relay
# that acknowledges after the client's timeout gets it twice, not once per attempt.
UNCONFIRMED_SENDS = 2

log = logging.getLogger("tokens.notifications")


def notify(
    event: str,
    user_id,
    *,
    device: str = "",
    ip_address: str | None = None,
    when: datetime | None = None,
) -> None:
    """Email the user about ``event`` after the current transaction commits (at once
    outside one); a rolled-back transaction sends nothing. Email and queue trouble
    never raises into the caller (only an unknown ``event``, a programming error, does)."""
    if event not in EVENTS:
        raise ValueError(f"unknown security event {event!r}")
    if not tokens_settings.SECURITY_NOTIFICATIONS or not extras.installed("emails"):
        return  # tokens.E006 says so when the setting asks for emails without the extra
    details = {
        "device": device,
        "ip_address": ip_address,
        "occurred_at": (when or timezone.now()).isoformat(),
        "message_id": new_message_id(),
    }
    transaction.on_commit(functools.partial(_queue_unless_over_rate, event, str(user_id), details))


def _queue_unless_over_rate(event: str, user_id: str, details: dict) -> None:
    """Queue the email's first attempt, unless it goes beyond the user's budget for
    ``event``: then no task row at all, only a log line (a flood of new-device logins
    would otherwise fill the queue's table with tasks that send nothing)."""
    try:
        over = _over_rate(event, user_id)
    except Exception:  # never into the caller's commit; a security notice fails open
        log.exception("security email rate not counted: event=%s user_id=%s", event, user_id)
        over = False
    if over:
        log.warning(
            "security email skipped: over SECURITY_NOTIFICATION_RATE event=%s user_id=%s",
            event,
            user_id,
        )
        return
    _enqueue(event, user_id, details, 1)


def new_message_id() -> str:
    """A Message-ID in the sender's domain (no DNS lookup, unlike Django's default)."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    try:
        return make_msgid(domain=punycode(domain) if domain else "localhost")
    except UnicodeError:
        return make_msgid(domain="localhost")


def _enqueue(
    event: str,
    user_id: str,
    details: dict,
    attempt: int,
    run_after: datetime | None = None,
    *,
    retry: bool = False,
) -> None:
    """Queue one attempt; a queue that cannot take it is logged, never raised, unless
    it is a ``retry``: the worker's attempt then raises, to be run again."""
    try:
        task = send_security_email.using(backend=tokens_settings.SECURITY_NOTIFICATION_TASK_BACKEND)
        # A backend that runs tasks at once (ImmediateBackend, in tests) cannot wait:
        # there the next attempt follows straight away.
        if run_after is not None and task.get_backend().supports_defer:
            task = task.using(run_after=run_after)
        task.enqueue(event, user_id, details, attempt)
    except Exception:
        if retry:
            log.error(
                "security email retry not queued: event=%s user_id=%s attempt=%d; "
                "this attempt stays to be run again",
                event,
                user_id,
                attempt,
            )
            raise
        log.exception(
            "security email not queued: event=%s user_id=%s attempt=%d", event, user_id, attempt
        )


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1, 2, 4... times the delay)."""
    return tokens_settings.SECURITY_NOTIFICATION_RETRY_DELAY * 2 ** (attempt - 1)


def deliver(event: str, user_id: str, details: dict, attempt: int = 1) -> str:
    """Render and send one notification (the task's work); returns what it did.

    A failed send queues the next attempt (after ``retry_delay``) and raises, so the
    queue records this attempt as failed; the last attempt only raises.
    """
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None:
        return NO_USER
    address = getattr(user, _email_field(user), "") or ""
    if not address:
        return NO_ADDRESS
    occurred_at = datetime.fromisoformat(details["occurred_at"])
    if event == NEW_DEVICE and not wants_new_device_email(user, at=occurred_at):
        return OPTED_OUT
    # Tasks queued before Message-IDs were made at notify() get theirs here.
    details = {**details, "message_id": details.get("message_id") or new_message_id()}
    message = _message(event, address, details)
    try:
        message.send()
    except Exception as error:
        if _handed_over(error):
            return _unconfirmed(event, user_id, details, attempt, error)
        limit = tokens_settings.SECURITY_NOTIFICATION_MAX_ATTEMPTS
        if attempt >= limit:
            log.error(
                "security email given up: event=%s user_id=%s after %d attempts (%s)",
                event,
                user_id,
                attempt,
                type(error).__name__,
            )
            raise
        delay = retry_delay(attempt)
        log.warning(
            "security email failed: event=%s user_id=%s attempt=%d of %d, next in %ds (%s)",
            event,
            user_id,
            attempt,
            limit,
            delay.total_seconds(),
            type(error).__name__,
        )
        _enqueue(event, user_id, details, attempt + 1, run_after=timezone.now() + delay, retry=True)
        raise
    log.info(
        "security email sent: event=%s user_id=%s attempt=%d message_id=%s",
        event,
        user_id,
        attempt,
        details["message_id"],
    )
    return SENT


def _handed_over(error: BaseException) -> bool:
    """Whether ``error`` came after smtplib had sent the whole message (inside
    ``SMTP.data()``, once the body ``q`` was made): the server may have taken it and only
    its answer went missing. A refusal, or trouble before the body, means not sent."""
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code is smtplib.SMTP.data.__code__ and "q" in frame.f_locals:
            return True
        trace = trace.tb_next
    return False


def _unconfirmed(event: str, user_id: str, details: dict, attempt: int, error) -> str:
    """After a send the mail server may have taken: once more with the same Message-ID
    (so a mailbox that deduplicates shows one), never up to the attempt limit."""
    sends = details.get("unconfirmed_sends", 0) + 1
    if sends >= UNCONFIRMED_SENDS or attempt >= tokens_settings.SECURITY_NOTIFICATION_MAX_ATTEMPTS:
        log.warning(
            "security email may have been delivered, not sent again: event=%s user_id=%s "
            "message_id=%s; the mail server took it %d times without answering (%s)",
            event,
            user_id,
            details["message_id"],
            sends,
            type(error).__name__,
        )
        return UNCONFIRMED
    delay = retry_delay(attempt)
    log.warning(
        "security email may have been delivered: event=%s user_id=%s attempt=%d "
        "message_id=%s; the mail server took it without answering (%s), sent once more "
        "in %ds with the same Message-ID",
        event,
        user_id,
        attempt,
        details["message_id"],
        type(error).__name__,
        delay.total_seconds(),
    )
    details = {**details, "unconfirmed_sends": sends}
    _enqueue(event, user_id, details, attempt + 1, run_after=timezone.now() + delay, retry=True)
    return UNCONFIRMED_RETRIED


def _over_rate(event: str, user_id: str) -> bool:
    """Count one email of ``event`` to the user; whether it goes beyond
    SECURITY_NOTIFICATION_RATE. Each event has its own budget, so a flood of one kind
    (new-device emails from bot user agents) never silences another (the theft email).
    A cache that cannot count sends the email (a security notice fails open)."""
    try:
        usage = get_usage(
            None,
            group=f"tokens.security_email.{event}",
            key=lambda group, request: user_id,
            rate=tokens_settings.SECURITY_NOTIFICATION_RATE,
            increment=True,
        )
    except (*extras.redis_errors(), OSError) as exc:
        log.error("security email rate not counted: %s", exc.__class__.__name__)
        return False
    return usage is not None and usage["should_limit"]


def _email_field(user) -> str:
    # AbstractBaseUser's EMAIL_FIELD ("email" unless the model says otherwise).
    get_name = getattr(user, "get_email_field_name", None)
    return get_name() if get_name else "email"


def _message(event: str, address: str, details: dict) -> EmailMultiAlternatives:
    """The email for ``event``: plain text, with an HTML alternative."""
    occurred_at = datetime.fromisoformat(details["occurred_at"]).astimezone(UTC)
    context = {
        "device": details.get("device") or "",
        "ip_address": details.get("ip_address") or "",
        # In UTC, spelled out: the recipient's time zone is unknown here.
        "when": occurred_at.strftime("%d %B %Y, %H:%M UTC").lstrip("0"),
        "sessions_url": tokens_settings.SECURITY_NOTIFICATION_SESSIONS_URL,
        "can_opt_out": event == NEW_DEVICE,
    }
    folder = "tokens/email"
    subject = render_to_string(f"{folder}/{event}_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # one line: a header cannot hold a newline
        body=render_to_string(f"{folder}/{event}.txt", context),
        to=[address],
        headers={"Message-ID": details["message_id"]},
    )
    message.attach_alternative(render_to_string(f"{folder}/{event}.html", context), "text/html")
    return message


def wants_new_device_email(user, *, at: datetime | None = None) -> bool:
    """Whether the user wants the new-device email (yes, unless they said otherwise);
    with ``at``, for a sign-in at that time: an opt-out saved after it (by whoever just
    signed in, with that sign-in's token) does not silence it."""
    preference = (
        NotificationPreference.objects.filter(user_id=user.pk)
        .values_list("new_device", "changed_at")
        .first()
    )
    if preference is None:
        return True
    new_device, changed_at = preference
    return new_device or (at is not None and changed_at >= at)


def preferences(user) -> dict[str, bool]:
    """The user's notification preferences, as the API shows them."""
    return {NEW_DEVICE: wants_new_device_email(user)}


def set_preferences(user, *, new_device: bool) -> dict[str, bool]:
    """Store the user's choice for the new-device email; returns the preferences."""
    NotificationPreference.objects.update_or_create(user=user, defaults={"new_device": new_device})
    return {NEW_DEVICE: new_device}


if extras.installed("emails"):
    from django_tasks import task

    @task()
    def send_security_email(event: str, user_id: str, details: dict, attempt: int = 1) -> str:
        """The queued task: send one security notification (``deliver``)."""
        return deliver(event, user_id, details, attempt)
