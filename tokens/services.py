"""The session service: issue, rotate, verify and revoke. No HTTP in here.

Views, admin actions and management commands all come through these functions, so a
session is revoked the same way (one set-based UPDATE) whoever asks.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import auth
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from tokens import crypto
from tokens.errors import (
    BadCredentials,
    NotLoggedIn,
    RefreshTokenInvalid,
    RefreshTokenMissing,
    UserInactive,
)
from tokens.models import RefreshToken, RefreshTokenQuerySet, RevokeReason

security_log = logging.getLogger("security")

SESSION_ID_CLAIM = "sid"


@dataclass(frozen=True)
class IssuedTokens:
    """What a successful login or refresh hands to the client.

    ``refresh_token`` is None when the client's cookie stays as it is (rotation off).
    """

    session: RefreshToken
    access_token: str
    expires_in: int
    refresh_token: str | None
    refresh_max_age: int  # seconds until the session's idle expiry


def _idle_lifetime(remember_me: bool) -> timedelta:
    if remember_me:
        return settings.REFRESH_TOKEN_REMEMBER_ME_LIFETIME
    return settings.REFRESH_TOKEN_LIFETIME


def _issue(session: RefreshToken, refresh_token: str | None, now: datetime) -> IssuedTokens:
    access = AccessToken.for_user(session.user)
    access[SESSION_ID_CLAIM] = str(session.id)
    return IssuedTokens(
        session=session,
        access_token=str(access),
        expires_in=int(settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        refresh_token=refresh_token,
        refresh_max_age=max(0, int((session.expires_at - now).total_seconds())),
    )


def _revoke(sessions: RefreshTokenQuerySet, reason: str, now: datetime) -> int:
    """Revoke the sessions in one UPDATE; returns how many were still unrevoked."""
    return sessions.filter(revoked_at__isnull=True).update(revoked_at=now, revoke_reason=reason)


def login(
    *,
    email: str,
    password: str,
    remember_me: bool = False,
    user_agent: str = "",
    ip_address: str | None = None,
) -> IssuedTokens:
    """Check the credentials and start a session, or raise BadCredentials.

    Django's ModelBackend hashes the password for an unknown email too, and checks
    the password before ``is_active``: every refusal costs the same hashing work.
    """
    user = auth.authenticate(request=None, username=email, password=password)
    if user is None:
        raise BadCredentials()
    return start_session(
        user, remember_me=remember_me, user_agent=user_agent, ip_address=ip_address
    )


def start_session(
    user,
    *,
    remember_me: bool = False,
    user_agent: str = "",
    ip_address: str | None = None,
    now: datetime | None = None,
) -> IssuedTokens:
    """Create a session for an authenticated user and issue its first tokens."""
    now = now or timezone.now()
    absolute = now + settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME
    session = RefreshToken.objects.create(
        user=user,
        created_at=now,
        last_used_at=now,
        expires_at=min(now + _idle_lifetime(remember_me), absolute),
        absolute_expires_at=absolute,
        remember_me=remember_me,
        user_agent=user_agent,
        ip_address=ip_address,
    )
    return _issue(session, crypto.encode(session.id, session.generation), now)


def refresh(raw_token: str | None, *, now: datetime | None = None) -> IssuedTokens:
    """Trade a refresh token for a new access token, rotating the refresh token.

    Presenting the current generation rotates it. Presenting its immediate
    predecessor within REFRESH_TOKEN_REUSE_INTERVAL of that rotation returns the
    same successor (concurrent tabs, a lost response). Anything older is a replay:
    the whole session is revoked. The row is locked for the decision, so concurrent
    refreshes of one token never fork the session.
    """
    if not raw_token:
        raise RefreshTokenMissing()
    claims = crypto.decode(raw_token)
    if claims is None:
        raise RefreshTokenInvalid()
    now = now or timezone.now()

    with transaction.atomic():
        session = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=claims.session_id)
            .first()
        )
        if session is None or not session.is_live(now):
            raise RefreshTokenInvalid()
        if not session.user.is_active:
            raise UserInactive()

        if claims.generation == session.generation:
            return _extend(session, now)
        if _within_reuse_interval(session, claims.generation, now):
            return _issue(session, crypto.encode(session.id, session.generation), now)
        _revoke(RefreshToken.objects.filter(pk=session.pk), RevokeReason.REPLAY, now)

    security_log.warning(
        "refresh token replay: session revoked",
        extra={
            "event": "replay_detected",
            "user_id": str(session.user_id),
            "session_id": str(session.id),
            "presented_generation": claims.generation,
            "current_generation": session.generation,
        },
    )
    raise RefreshTokenInvalid()


def _within_reuse_interval(session: RefreshToken, generation: int, now: datetime) -> bool:
    return (
        generation == session.generation - 1
        and session.rotated_at is not None
        and now - session.rotated_at <= settings.REFRESH_TOKEN_REUSE_INTERVAL
    )


def _extend(session: RefreshToken, now: datetime) -> IssuedTokens:
    """Move the idle expiry (never past the absolute one) and rotate if configured."""
    rotate = settings.REFRESH_TOKEN_ROTATE
    session.last_used_at = now
    session.expires_at = min(now + _idle_lifetime(session.remember_me), session.absolute_expires_at)
    fields = ["last_used_at", "expires_at"]
    if rotate:
        session.generation += 1
        session.rotated_at = now
        fields += ["generation", "rotated_at"]
    session.save(update_fields=fields)
    return _issue(session, crypto.encode(session.id, session.generation) if rotate else None, now)


def logout(
    *,
    refresh_token: str | None,
    user=None,
    access_session_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> None:
    """End one session: the cookie's, or else the access token's.

    With an authenticated ``user`` the cookie counts only if it is one of theirs.
    Raises NotLoggedIn when neither names a live session.
    """
    now = now or timezone.now()
    claims = crypto.decode(refresh_token) if refresh_token else None
    if claims is not None:
        sessions = RefreshToken.objects.live(now).filter(pk=claims.session_id)
        if user is not None:
            sessions = sessions.filter(user=user)
        if _revoke(sessions, RevokeReason.LOGOUT, now):
            return
    if user is not None and access_session_id is not None:
        sessions = RefreshToken.objects.filter(pk=access_session_id, user=user)
        if _revoke(sessions, RevokeReason.LOGOUT, now):
            return
    raise NotLoggedIn()


def revoke_session(
    user, session_id: uuid.UUID, *, reason: str = RevokeReason.REVOKED, now=None
) -> bool:
    """Revoke one live session of this user; False when there is no such session."""
    now = now or timezone.now()
    sessions = RefreshToken.objects.live(now).filter(pk=session_id, user=user)
    return _revoke(sessions, reason, now) == 1


def revoke_all(
    user, *, reason: str, keep: uuid.UUID | None = None, now: datetime | None = None
) -> int:
    """Revoke every live session of the user (but ``keep``); returns how many."""
    now = now or timezone.now()
    sessions = RefreshToken.objects.live(now).filter(user=user)
    if keep is not None:
        sessions = sessions.exclude(pk=keep)
    return _revoke(sessions, reason, now)


def live_sessions(user, *, now: datetime | None = None) -> RefreshTokenQuerySet:
    """The user's live sessions, newest first."""
    return RefreshToken.objects.live(now).filter(user=user).order_by("-created_at")


def authenticated_session(
    session_id: str, user_id: str, *, now: datetime | None = None
) -> RefreshToken | None:
    """The live session an access token names, with its user, in one query.

    None when the ids are malformed, the session is revoked or expired, or it
    belongs to someone else.
    """
    try:
        session_uuid, user_uuid = uuid.UUID(str(session_id)), uuid.UUID(str(user_id))
    except ValueError:
        return None
    # Filtering by primary key alone and checking the rest here keeps the SQL (and
    # the ORM's work to compile it) minimal on the hottest path of the service.
    try:
        session = RefreshToken.objects.select_related("user").get(pk=session_uuid)
    except RefreshToken.DoesNotExist:
        return None
    if session.user_id != user_uuid or not session.is_live(now):
        return None
    return session
