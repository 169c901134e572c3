"""A session is bound to the password it was opened with: what proving it again renews,
and what a password change ends. No HTTP in here.

``tokens.receivers`` calls ``password_changed`` whenever the user model saves a
password, whatever path changed it; a project's own change-password view calls it
first with ``keep``, so the session that made the change lives on.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import hashers
from django.contrib.auth.signals import user_login_failed
from django.utils import timezone

from tokens import crypto
from tokens.access import AccessToken
from tokens.errors import NotLoggedIn, ReauthenticateBadPassword
from tokens.models import RefreshToken, RevokeReason


@dataclass(frozen=True)
class IssuedAccess:
    """A fresh access token for a session that goes on (``reauthenticate``)."""

    access_token: str
    expires_in: int
    dpop_jkt: str | None = None  # the DPoP key the token is bound to (cnf.jkt)


def password_changed(user, *, keep: uuid.UUID | None = None, now: datetime | None = None) -> int:
    """End every live session of the user opened with another password; returns how many.

    Call it after setting ``user.password``, before or after saving it. ``keep`` (the
    session that changed the password through the API) is bound to the new password
    first and lives on.
    """
    now = now or timezone.now()
    if keep is not None:
        # Knowing the current password is a proof too: auth_time renews from the next refresh.
        RefreshToken.objects.live(now).filter(pk=keep, user=user).update(
            password_binding=crypto.password_binding(user.password), authenticated_at=now
        )
    stale = RefreshToken.objects.filter(user=user).bound_elsewhere(user.password)
    return len(stale.revoke(RevokeReason.PASSWORD_CHANGE, now, user_id=user.pk))


def reauthenticate(
    user,
    session_id,
    password: str,
    *,
    dpop_jkt: str | None = None,
    now: datetime | None = None,
    request=None,
) -> IssuedAccess:
    """Check the password of the caller of ``session_id`` again and renew the session's
    proof: a fresh access token (fresh ``auth_time``) for the same session, bound to
    the session's DPoP key ``dpop_jkt`` (the caller's token's, checked with its proof).

    Raises ReauthenticateBadPassword (after sending Django's ``user_login_failed``, so
    a lockout tool sees guesses made with a stolen access token), or NotLoggedIn when
    the session ended meanwhile. The check never upgrades the stored hash: a save
    would end the user's other sessions (``tokens.receivers``).
    """
    if not hashers.check_password(password, user.password):
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
        raise ReauthenticateBadPassword()
    now = now or timezone.now()
    renewed = (
        RefreshToken.objects.live(now)
        .filter(pk=session_id, user=user)
        .bound_to(user.password)
        .update(authenticated_at=now)
    )
    if not renewed:
        raise NotLoggedIn()
    return IssuedAccess(
        access_token=str(AccessToken.for_session(user, session_id, now, dpop_jkt)),
        expires_in=AccessToken.lifetime_seconds(),
        dpop_jkt=dpop_jkt,
    )
