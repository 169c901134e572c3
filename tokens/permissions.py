"""Step-up: a DRF permission that asks for a recent password proof.

A stolen access token lives up to its lifetime; with ``RecentLogin`` on a destructive
view it cannot also end the owner's other sessions (and so lock them out of the account)
unless the thief knows the password too. The proof is the access token's ``auth_time``
claim, which a refresh keeps and only a login, ``reauthenticate`` or a password change
renews.
"""

from django.utils import timezone
from rest_framework.permissions import BasePermission

from tokens.access import AUTH_TIME_CLAIM
from tokens.errors import ReauthenticationRequired
from tokens.settings import tokens_settings


class RecentLogin(BasePermission):
    """Allow an authenticated caller whose password proof is at most ``max_age`` seconds old.

    ``max_age`` defaults to REAUTHENTICATION_MAX_AGE (read at each request); 0 turns the
    check off. Use the class or an instance: ``permission_classes = [IsAuthenticated,
    RecentLogin(max_age=300)]``. Refuses with 403 REAUTHENTICATION_REQUIRED; the client
    answers with ``POST /api/auth/reauthenticate`` and retries.
    """

    def __init__(self, max_age: int | None = None) -> None:
        self.max_age = max_age

    def __call__(self) -> "RecentLogin":
        # DRF instantiates each entry of permission_classes; an instance stands for itself.
        return self

    def has_permission(self, request, view) -> bool:
        if request.auth is None:
            return False  # DRF answers 401: not authenticated
        require_recent_login(request, max_age=self.max_age)
        return True


def require_recent_login(request, *, max_age: int | None = None) -> None:
    """Raise REAUTHENTICATION_REQUIRED unless the caller's access token proves the
    password within ``max_age`` seconds (default REAUTHENTICATION_MAX_AGE; 0: no check).

    For a view that needs the proof for some requests only (RecentLogin is for all).
    """
    if max_age is None:
        max_age = tokens_settings.REAUTHENTICATION_MAX_AGE
    if max_age <= 0:
        return
    claims = request.auth or {}
    if not is_recent(claims.get(AUTH_TIME_CLAIM), max_age):
        raise ReauthenticationRequired()


def is_recent(auth_time: object, max_age: int) -> bool:
    """Whether ``auth_time`` (a NumericDate) lies within the last ``max_age`` seconds."""
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
        return False  # a token without the claim (issued before it existed) is not recent
    age = timezone.now().timestamp() - auth_time
    # A proof from the future (clock skew between instances) counts as just made.
    return age <= max_age
