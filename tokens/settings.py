"""The tokens app's settings: one dict, ``TOKENS``, in the project's settings.

A project sets only what it changes::

    TOKENS = {"REFRESH_TOKEN_COOKIE_SECURE": True, "TRUSTED_PROXY_COUNT": 1}

Every key has a default below; a key that is not one of them is refused (a typo would
otherwise leave a security setting at its default without a word). The app reads every
value through ``tokens_settings``, which is rebuilt when ``TOKENS`` changes
(``override_settings``, pytest-django's ``settings``), like simplejwt's ``api_settings``.
The access token's lifetime, claims and HS256 key are simplejwt's own ``SIMPLE_JWT``
settings; its algorithm and asymmetric keys are the ``ACCESS_TOKEN_*`` keys below
(tokens/signing.py).
"""

import difflib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from tokens import extras

SETTING_NAME = "TOKENS"

DEFAULTS = {
    # Idle lifetime of a session: each refresh extends it (up to the absolute one).
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    # A session never outlives this, counted from its login.
    "REFRESH_TOKEN_ABSOLUTE_LIFETIME": timedelta(days=30),
    # Idle lifetime of a "remember me" login.
    "REFRESH_TOKEN_REMEMBER_ME_LIFETIME": timedelta(days=30),
    # Replace the refresh token on every refresh (RFC 9700 for public clients).
    "REFRESH_TOKEN_ROTATE": True,
    # How long a just-replaced token still yields the same successor (tabs, retries).
    "REFRESH_TOKEN_REUSE_INTERVAL": timedelta(seconds=10),
    "REFRESH_TOKEN_COOKIE_NAME": "refresh_token",
    # The cookie's Path: where the app's URLs are mounted (login, refresh, logout), so
    # browsers send the refresh token there and nowhere else. tokens.E008 checks it.
    "REFRESH_TOKEN_COOKIE_PATH": "/api/auth",
    # True behind HTTPS (tokens.E001 insists when DEBUG is off).
    "REFRESH_TOKEN_COOKIE_SECURE": False,
    "REFRESH_TOKEN_COOKIE_SAMESITE": "Lax",
    # Live sessions per user; a login beyond it evicts the least recently used. 0: none.
    "SESSIONS_PER_USER_LIMIT": 100,
    # Reverse proxies in front whose X-Forwarded-For entries are trusted.
    "TRUSTED_PROXY_COUNT": 0,
    # Seconds since the last password proof (the access token's auth_time) within which
    # RecentLogin lets a destructive action through: revoking another session,
    # logout-all. 0: no such check.
    "REAUTHENTICATION_MAX_AGE": 600,
    # django-ratelimit rates: refresh and logout; login, register, password checks.
    "RATE_LIMIT_DEFAULT": "60/m",
    "RATE_LIMIT_LOGIN": "5/m",
    # The device cookie (tokens.known_devices): a browser that signed in to an account
    # gets one, and then guesses that account's password on its own RATE_LIMIT_LOGIN
    # budget, never locked out by failures from elsewhere. Renewed at each login.
    "DEVICE_COOKIE_NAME": "known_device",
    "DEVICE_COOKIE_LIFETIME": timedelta(days=365),
    # Security emails (tokens.notifications): on when the "emails" extra (django-tasks)
    # is installed, off without it.
    "SECURITY_NOTIFICATIONS": extras.installed("emails"),
    # Security notifications (tokens.notifications): the link in each email to where the
    # user sees their sessions, or None for no link (the app has no page of its own).
    "SECURITY_NOTIFICATION_SESSIONS_URL": None,
    # A failed send is tried again, this many times in all, after this delay, doubled
    # after each failure (1, 2, 4, 8 minutes): about a quarter of an hour of SMTP outage.
    "SECURITY_NOTIFICATION_MAX_ATTEMPTS": 5,
    "SECURITY_NOTIFICATION_RETRY_DELAY": timedelta(minutes=1),
    # At most this many security emails per user (a django-ratelimit rate), whatever the
    # event: without email verification, anyone can register someone else's address and
    # sign in from endless "new devices". Beyond it the email is skipped and logged.
    "SECURITY_NOTIFICATION_RATE": "10/h",
    # The django-tasks backend (an alias of the TASKS setting) that queues the emails.
    "SECURITY_NOTIFICATION_TASK_BACKEND": "default",
    # The task worker (manage.py task_worker, tokens.worker): a task RUNNING this long
    # belongs to a worker that died (SIGKILL, a lost host) and runs again, at most
    # TASK_MAX_CLAIMS times in all. Longer than any task takes: an email takes at most
    # a few times the email backend's timeout.
    "TASK_LEASE": timedelta(minutes=5),
    "TASK_MAX_CLAIMS": 3,
    # Access-token signing: HS256 under SIMPLE_JWT["SIGNING_KEY"], or ES256 / EdDSA with
    # ACCESS_TOKEN_SIGNING_KEY (a PEM private key), so other services can verify tokens
    # with the public keys of GET /.well-known/jwks.json.
    "ACCESS_TOKEN_ALGORITHM": "HS256",
    "ACCESS_TOKEN_SIGNING_KEY": None,
    # PEM keys (private or public) that verify and are published but do not sign: the
    # previous key until its last token has expired, the next one before it signs.
    "ACCESS_TOKEN_VERIFYING_KEYS": (),
    # How long resource servers and proxies may cache the JWKS.
    "JWKS_MAX_AGE": timedelta(minutes=5),
    # Services allowed to call POST /api/auth/introspect: {client id: secret}.
    "INTROSPECTION_CLIENTS": {},
    # Per service (client id), and per client IP for attempts that do not authenticate;
    # a resource server introspects once per request it serves.
    "RATE_LIMIT_INTROSPECTION": "600/m",
    # DPoP proofs (RFC 9449, tokens.dpop): a proof's iat may be this far from the
    # server's clock, either way; its jti is remembered for twice as long.
    "DPOP_PROOF_WINDOW": timedelta(seconds=60),
    # True: every login needs a DPoP proof, and only sessions bound to a key (login,
    # refresh and access tokens alike) work; sessions opened without one are refused.
    "DPOP_REQUIRED": False,
    # Server nonces (RFC 9449 section 8): None, off; a duration, every proof must carry
    # the nonce of the current period of that length (or of the one before), which the
    # server sends as DPoP-Nonce. Stateless: an HMAC of the period under SECRET_KEY.
    "DPOP_NONCE_LIFETIME": None,
}


class TokensSettings:
    """``tokens_settings.NAME``: ``TOKENS["NAME"]`` if the project sets it, else the default."""

    def __init__(self) -> None:
        self._values: dict[str, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"tokens has no setting {name!r}")
        if self._values is None:
            self._values = {**DEFAULTS, **user_settings()}
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "_values":
            # Change TOKENS instead (override_settings, pytest-django's settings): a value
            # stuck on this object would outlive the override.
            raise AttributeError(f"tokens_settings is read-only; change the {SETTING_NAME} setting")
        super().__setattr__(name, value)

    def reload(self) -> None:
        self._values = None


def user_settings() -> dict[str, Any]:
    """The project's ``TOKENS``; ImproperlyConfigured for a key the app does not have."""
    values = getattr(settings, SETTING_NAME, None) or {}
    if not isinstance(values, dict):
        raise ImproperlyConfigured(f"{SETTING_NAME} must be a dict, got {type(values).__name__}.")
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(unknown_key_message(unknown[0]))
    return values


def unknown_key_message(name: str) -> str:
    close = difflib.get_close_matches(name, DEFAULTS, n=1)
    suggestion = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"{SETTING_NAME} has no key {name!r}.{suggestion} The keys and their defaults are "
        "in tokens/settings.py (docs/settings.md)."
    )


tokens_settings = TokensSettings()


def _reload(*, setting: str, **kwargs) -> None:
    if setting == SETTING_NAME:
        tokens_settings.reload()


setting_changed.connect(_reload, dispatch_uid="tokens.settings.reload")
