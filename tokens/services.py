"""The session lifecycle: log in, refresh, list, log out. No HTTP in here.

Every revocation, here and in the bulk work of ``tokens.maintenance`` (the admin's, the
commands'), is ``RefreshTokenQuerySet.revoke``: one set-based UPDATE and one audit
signal, whoever asks. Checking a bearer token's session is ``tokens.authentication``'s
job; a password proved again or changed is ``tokens.passwords``'.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.utils import timezone

from tokens import crypto, devices, dpop_binding, notifications, signals
from tokens.access import AccessToken
from tokens.errors import (
    BadCredentials,
    DpopProofRequired,
    NotLoggedIn,
    RefreshTokenInvalid,
    RefreshTokenMissing,
    UserInactive,
)
from tokens.models import RefreshToken, RevokedSession, RevokeReason
from tokens.settings import tokens_settings


@dataclass(frozen=True)
class IssuedTokens:
    """What a successful login or refresh hands to the client.

    ``refresh_token`` is always sent back, the same one when rotation is off: the
    browser's copy must live as long as the session (``refresh_max_age``).
    """

    session: RefreshToken
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_max_age: int  # seconds until the session's idle expiry, rounded up

    @property
    def dpop_jkt(self) -> str | None:
        """The DPoP key the session is bound to (its tokens' ``cnf.jkt``), or None."""
        return self.session.dpop_jkt or None


def _idle_lifetime(remember_me: bool) -> timedelta:
    if remember_me:
        return tokens_settings.REFRESH_TOKEN_REMEMBER_ME_LIFETIME
    return tokens_settings.REFRESH_TOKEN_LIFETIME


def _issue(session: RefreshToken, now: datetime) -> IssuedTokens:
    return IssuedTokens(
        session=session,
        access_token=str(
            AccessToken.for_session(
                session.user, session.id, session.authenticated_at, session.dpop_jkt or None
            )
        ),
        expires_in=AccessToken.lifetime_seconds(),
        refresh_token=crypto.encode(session.id, session.generation),
        # Rounded up: a live session never gets a cookie that deletes itself (Max-Age=0).
        refresh_max_age=max(1, math.ceil((session.expires_at - now).total_seconds())),
    )


def login(
    *,
    username: str,
    password: str,
    remember_me: bool = False,
    user_agent: str = "",
    ip_address: str | None = None,
    dpop_jkt: str | None = None,
    request=None,
) -> IssuedTokens:
    """Check the credentials (``username``: the user model's login name) and start a
    session, or raise BadCredentials. With ``dpop_jkt`` (the thumbprint of the key of
    a verified DPoP proof) the session is bound to that key.

    Django's ModelBackend hashes the password for an unknown email too, and checks
    the password before ``is_active``: every refusal costs the same hashing work.
    Django's bookkeeping follows, as after ``django.contrib.auth.login``:
    ``user_login_failed`` (sent by ``authenticate``) or ``user_logged_in`` (which
    sets ``last_login``). ``request`` is only handed to those, never read here.
    """
    if dpop_jkt is None and tokens_settings.DPOP_REQUIRED:
        raise DpopProofRequired()
    user = auth.authenticate(request=request, username=username, password=password)
    if user is None:
        raise BadCredentials()
    now = timezone.now()
    # The session and Django's last_login commit together: one durable write per login.
    with transaction.atomic():
        session = _open_session(user, remember_me, user_agent, ip_address, now, dpop_jkt)
        user_logged_in.send(sender=user.__class__, request=request, user=user)
    return _started(session, ip_address, now)


def start_session(
    user,
    *,
    remember_me: bool = False,
    user_agent: str = "",
    ip_address: str | None = None,
    now: datetime | None = None,
) -> IssuedTokens:
    """Create a session for an authenticated user and issue its first tokens.

    Raises BadCredentials when the user's password is no longer the one ``user``
    carries (a login that lost a race with a password change). Beyond
    SESSIONS_PER_USER_LIMIT live sessions, the user's least recently used ones
    are revoked (reason ``evicted``) in the same transaction: a login is never refused.
    """
    now = now or timezone.now()
    with transaction.atomic():
        session = _open_session(user, remember_me, user_agent, ip_address, now)
    return _started(session, ip_address, now)


def _open_session(
    user,
    remember_me: bool,
    user_agent: str,
    ip_address: str | None,
    now: datetime,
    dpop_jkt: str | None = None,
) -> RefreshToken:
    """``start_session``'s writes, inside the caller's transaction."""
    absolute = now + tokens_settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME
    session = RefreshToken(
        user=user,
        created_at=now,
        last_used_at=now,
        authenticated_at=now,
        expires_at=min(now + _idle_lifetime(remember_me), absolute),
        absolute_expires_at=absolute,
        remember_me=remember_me,
        user_agent=user_agent,
        device=devices.describe(user_agent),
        ip_address=ip_address,
        password_binding=crypto.password_binding(user.password),
        dpop_jkt=dpop_jkt or "",
    )
    inserted = RefreshToken.objects.insert_for_password(session, user.password, now)
    if inserted is None:  # the password was changed since it was checked
        raise BadCredentials()
    _evict_beyond_cap(session, inserted.other_live_sessions, now)
    if not inserted.device_seen_before:
        # Queued once the login commits; a known device costs nothing (the INSERT said).
        notifications.notify(
            notifications.NEW_DEVICE,
            user.pk,
            device=session.device,
            ip_address=ip_address,
            when=now,
        )
    return session


def _started(session: RefreshToken, ip_address: str | None, now: datetime) -> IssuedTokens:
    signals.session_created.send(sender=RefreshToken, session=session, ip_address=ip_address)
    return _issue(session, now)


def _evict_beyond_cap(session: RefreshToken, others: int, now: datetime) -> int:
    """Revoke the user's least recently used sessions beyond the cap, never ``session``.

    ``others`` (the user's other live sessions) comes with the INSERT, so below the
    cap this costs nothing; at the cap it is one UPDATE that names the user, so it reads
    the user's sessions by index (with 5,000 sessions of one user among 100,000, 3.7 ms
    instead of a table scan's 18). Two simultaneous logins of one user
    may briefly leave limit+1 live sessions (no user-row lock: the cap is a resource
    bound, not a security boundary); the next login trims it again.
    """
    limit = tokens_settings.SESSIONS_PER_USER_LIMIT
    if limit <= 0 or others < limit:
        return 0
    beyond = (
        RefreshToken.objects.live(now)
        .filter(user_id=session.user_id)
        .exclude(pk=session.pk)
        .order_by("-last_used_at", "-created_at")
        .values("pk")[limit - 1 :]
    )
    evicted = RefreshToken.objects.filter(pk__in=beyond)
    return len(evicted.revoke(RevokeReason.EVICTED, now, user_id=session.user_id))


def refresh(
    raw_token: str | None,
    *,
    ip_address: str | None = None,
    dpop_jkt: str | None = None,
    now: datetime | None = None,
) -> IssuedTokens:
    """Trade a refresh token for a new access token, rotating the refresh token.

    Presenting the current generation rotates it. Presenting its immediate
    predecessor within REFRESH_TOKEN_REUSE_INTERVAL of that rotation returns the
    same successor (concurrent tabs, a lost response). Anything older is a replay:
    the whole session is revoked. A session whose user's password has changed since
    it was opened is revoked (reason ``password_change``), whatever path changed it.
    ``ip_address`` (the caller's) only goes to the audit events.

    The common case, the current generation of a live session, is one UPDATE (the
    fast path); everything else is decided under a row lock, so concurrent refreshes
    of one token never fork the session.

    A session bound to a DPoP key needs ``dpop_jkt``, the thumbprint of a verified
    proof's key: without one it is refused and lives on (DpopProofRequired); with
    another key's it is revoked as stolen (``tokens.dpop_binding``).
    """
    if not raw_token:
        raise RefreshTokenMissing()
    claims = crypto.decode(raw_token)
    if claims is None:
        raise RefreshTokenInvalid()
    if dpop_jkt is None and tokens_settings.DPOP_REQUIRED:
        raise DpopProofRequired()
    now = now or timezone.now()
    session = RefreshToken.objects.advance(
        claims.session_id,
        claims.generation,
        now,
        idle_until=now + _idle_lifetime(False),
        remember_me_until=now + _idle_lifetime(True),
        rotate=tokens_settings.REFRESH_TOKEN_ROTATE,
        dpop_jkt=dpop_jkt,
    )
    if session is None:
        return _refresh_under_lock(claims, ip_address, now, dpop_jkt)
    if not session.is_bound_to_password():
        # Changed around Model.save() (QuerySet.update, raw SQL), so no receiver
        # recorded it: record it now, on the first use.
        RefreshToken.objects.filter(pk=session.pk).revoke(RevokeReason.PASSWORD_CHANGE, now)
        raise RefreshTokenInvalid()
    if tokens_settings.REFRESH_TOKEN_ROTATE:
        signals.session_rotated.send(sender=RefreshToken, session=session, ip_address=ip_address)
    return _issue(session, now)


def _refresh_under_lock(
    claims: crypto.TokenClaims, ip_address: str | None, now: datetime, dpop_jkt: str | None
) -> IssuedTokens:
    """``refresh`` for whatever its fast path did not match: a retry inside the reuse
    interval, a replay, a dead session, an inactive user."""
    with transaction.atomic():
        session = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=claims.session_id)
            .first()
        )
        if session is None or not session.is_live(now):
            raise RefreshTokenInvalid()
        if not session.is_bound_to_password():
            RefreshToken.objects.filter(pk=session.pk).revoke(RevokeReason.PASSWORD_CHANGE, now)
            issued = None
        elif not session.user.is_active:
            raise UserInactive()
        elif not dpop_binding.holds(session, dpop_jkt):
            _end_as_stolen(session, RevokeReason.DPOP_KEY, ip_address, now)
            issued = None
        elif claims.generation == session.generation:
            issued = _extend(session, now)
        elif _within_reuse_interval(session, claims.generation, now):
            return _issue(session, now)
        else:
            signals.replay_detected.send(
                sender=RefreshToken,
                session=session,
                ip_address=ip_address,
                presented_generation=claims.generation,
                current_generation=session.generation,
            )
            _end_as_stolen(session, RevokeReason.REPLAY, ip_address, now)
            issued = None

    if issued is None:  # raised outside the block: the revocation must commit
        raise RefreshTokenInvalid()
    if tokens_settings.REFRESH_TOKEN_ROTATE:
        signals.session_rotated.send(sender=RefreshToken, session=session, ip_address=ip_address)
    return issued


def _end_as_stolen(
    session: RefreshToken, reason: str, ip_address: str | None, now: datetime
) -> None:
    """Revoke a session whose refresh token was used by someone else (a replay, another
    DPoP key) and tell the user, whatever their preferences. The email is queued when
    the revocation commits, so only a recorded theft sends one."""
    RefreshToken.objects.filter(pk=session.pk).revoke(reason, now)
    notifications.notify(
        notifications.REPLAY,
        session.user_id,
        device=session.device,
        ip_address=ip_address,
        when=now,
    )


def _within_reuse_interval(session: RefreshToken, generation: int, now: datetime) -> bool:
    return (
        generation == session.generation - 1
        and session.rotated_at is not None
        and now - session.rotated_at <= tokens_settings.REFRESH_TOKEN_REUSE_INTERVAL
    )


def _extend(session: RefreshToken, now: datetime) -> IssuedTokens:
    """Move the idle expiry (never past the absolute one) and rotate if configured."""
    session.last_used_at = now
    session.expires_at = min(now + _idle_lifetime(session.remember_me), session.absolute_expires_at)
    fields = ["last_used_at", "expires_at"]
    if tokens_settings.REFRESH_TOKEN_ROTATE:
        session.generation += 1
        session.rotated_at = now
        fields += ["generation", "rotated_at"]
    session.save(update_fields=fields)
    return _issue(session, now)


def logout(
    *,
    refresh_token: str | None,
    user=None,
    access_session_id: uuid.UUID | None = None,
    now: datetime | None = None,
    request=None,
) -> None:
    """End one session: the cookie's, or else the access token's.

    With an authenticated ``user`` the cookie counts only if it is one of theirs.
    Raises NotLoggedIn when neither names a live session. Sends Django's
    ``user_logged_out`` (``request`` is only handed to it).
    """
    now = now or timezone.now()
    revoked: tuple[RevokedSession, ...] = ()
    claims = crypto.decode(refresh_token) if refresh_token else None
    if claims is not None:
        sessions = RefreshToken.objects.filter(pk=claims.session_id)
        if user is not None:
            sessions = sessions.filter(user=user)
        revoked = sessions.revoke(RevokeReason.LOGOUT, now)
    if not revoked and user is not None and access_session_id is not None:
        sessions = RefreshToken.objects.filter(pk=access_session_id, user=user)
        revoked = sessions.revoke(RevokeReason.LOGOUT, now)
    if not revoked:
        raise NotLoggedIn()
    user_model = get_user_model()
    if user is None and user_logged_out.has_listeners(user_model):
        # A cookie-only logout knows the user by id; load it only for a listener.
        user = user_model._default_manager.filter(pk=revoked[0].user_id).first()
    user_logged_out.send(sender=user_model, request=request, user=user)


def logout_all(user, *, now: datetime | None = None) -> int:
    """End every live session of the user (reason ``logout_all``); returns how many."""
    sessions = RefreshToken.objects.filter(user=user)
    return len(sessions.revoke(RevokeReason.LOGOUT_ALL, now, user_id=user.pk))


def revoke_own_session(user, session_id: uuid.UUID, *, now: datetime | None = None) -> bool:
    """The user ends one of their own sessions (reason ``revoked``, the session list's
    DELETE); False when they have no such live session."""
    sessions = RefreshToken.objects.filter(pk=session_id, user=user)
    return len(sessions.revoke(RevokeReason.REVOKED, now)) == 1


# The sessions list holds at most this many: the default SESSIONS_PER_USER_LIMIT, so
# with the default cap it is every live session; with the cap raised or off (a user
# with 10,000 sessions was a 2.7 MB answer), the newest ones.
SESSIONS_LIST_LIMIT = 100


def live_sessions(
    user,
    *,
    now: datetime | None = None,
    limit: int | None = SESSIONS_LIST_LIMIT,
    current: uuid.UUID | str | None = None,
) -> list[RefreshToken]:
    """The user's live sessions, newest first: at most ``limit`` (None: all), then the
    session ``current`` (the caller's) if it is live and older than those.

    Sessions of an older password are left out even before anything recorded their
    end (a password written around ``Model.save()``, a login that lost a race with
    a password change): they can no longer be used.
    """
    live = RefreshToken.objects.live(now).filter(user=user).order_by("-created_at")
    sessions = list(live if limit is None else live[:limit])
    if current is not None and str(current) not in {str(s.pk) for s in sessions}:
        sessions += live.filter(pk=current)
    return [s for s in sessions if crypto.is_bound_to(s.password_binding, user.password)]
