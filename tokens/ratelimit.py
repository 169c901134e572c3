"""Rate limits: django-ratelimit counters behind DRF's throttle interface.

A view opts in with one line, ``throttle_classes = [ratelimit.LoginRate]``. Each view
class has its own counters; over the limit DRF raises ``Throttled``, which
the tokens views answer with ``429 {"detail": "RATE_LIMITED"}`` and ``Retry-After``
(``tokens.exceptions.as_coded``). A password check naming an account runs inside
``password_guess``, which spends the account's (or the known device's) budget only when
the check fails. Code outside DRF (the admin's login form) calls ``count`` and
``password_guess`` the same way.
Counters live in django-ratelimit's cache (``RATELIMIT_USE_CACHE``): shared by every
worker and host when it is Redis; one process's memory otherwise, which tokens.E002
refuses with DEBUG off.
"""

import ipaddress
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tokens import caller, counters, extras, known_devices
from tokens.authentication import session_id_of
from tokens.errors import RateLimitUnavailable
from tokens.settings import tokens_settings

logger = logging.getLogger(__name__)

# A request with no usable address (a Unix-socket proxy that sets no REMOTE_ADDR) still
# counts, in one bucket shared by all such requests, rather than escaping the limit.
UNKNOWN_IP = "unknown"
# One IPv6 host usually holds a whole /64 and can pick any address in it, so the /64 is
# what counts (django-ratelimit's own "ip" key does the same).
IPV6_PREFIX = 64


def ip_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key: the client IP as tokens.caller trusts it (proxies); for
    IPv6 its /64 network."""
    ip = caller.client_ip(request)
    if ip is None:
        return UNKNOWN_IP
    if ipaddress.ip_address(ip).version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return ip


def normalize_login_name(name: str) -> str:
    """One spelling per account: the user model's own normalization (NFKC, as Django's
    login form applies it), trimmed and lower-cased as the email lookup does. For a
    model with case-sensitive names this only merges buckets: stricter, never looser."""
    return get_user_model().normalize_username(name).strip().lower()


# (counter suffix, key function) pairs; a key function returning None skips its counter.
IP_KEYS = (("ip", ip_key),)


def session_key(group: str, request: Request) -> str:
    """django-ratelimit key: the caller's session; for a caller authenticated without
    one (a project that also lets DRF's SessionAuthentication in), the user, so that no
    caller guesses on the IP limit alone."""
    session = session_id_of(request)
    return session if session is not None else f"user:{request.user.pk}"


# A live session proving its password again (change-password, reauthenticate) guesses
# on its own budget: only the session's holder can spend it, so no stranger can take
# the owner's way back during a takeover, and a stolen access token gets one budget.
PASSWORD_CHECK_KEYS = (*IP_KEYS, ("session", session_key))
# Failed password checks naming one account, from clients it does not know, or from one
# known device (tokens.known_devices): one counter per account or device, shared by the
# API's login and the admin's login form.
PASSWORD_GUESSES = "tokens.password_guesses"


def count(
    request: HttpRequest, *, group: str, rate_setting: str, keys, increment: bool = True
) -> int:
    """Count the request under each key; the seconds until it may be retried, 0 when it
    is within every limit. Raises RateLimitUnavailable when the cache cannot count.
    ``increment=False`` counts nothing and says whether one more would be over: for a
    budget only some requests spend (failures), checked before the request is tried."""
    rate = getattr(tokens_settings, rate_setting)
    retry_after = 0
    # In order: the IP first, so a body that cannot be parsed (read for the login
    # name) has still been counted.
    for suffix, key in keys:
        value = key(group, request)
        if value is None:
            continue
        try:
            usage = counters.usage(f"{group}:{suffix}", value, rate, increment=increment)
        except (*extras.redis_errors(), OSError) as exc:
            logger.error("rate-limit cache unavailable: %s", exc.__class__.__name__)
            raise RateLimitUnavailable() from None
        if usage is None:  # RATELIMIT_ENABLE is off
            continue
        # Not incrementing, a count at the limit means the next one would be over it.
        if usage.over if increment else usage.count >= usage.limit:
            # django-ratelimit's window is still current at time_left == 0 and ends a
            # second later; time_left is -1 when the cache could not count at all.
            retry_after = max(retry_after, usage.time_left + 1, 1)
    return retry_after


@contextmanager
def password_guess(request: HttpRequest, login_name: str) -> Iterator[None]:
    """Around one password check naming ``login_name``: refuse it (``Throttled``) when
    its budget is spent, and let it spend that budget only if the check fails.

    The budget is the known device's when the request carries a device cookie for the
    account (tokens.known_devices), and the account's for unknown clients and for a
    device whose own budget is spent (OWASP's algorithm: a locked-out device cookie is
    an unknown client). A guess is taken before the check, so simultaneous guesses
    cannot all slip under the limit, and given back unless Django reports that the
    check failed (``user_login_failed`` with this request): a success, a refused or
    malformed request spend nothing.
    """
    device = known_devices.recognise(request, login_name)
    account = f"account:{normalize_login_name(login_name)}"
    try:
        taken = _take(request, f"device:{device}" if device else account)
    except Throttled:
        if not device:
            raise
        taken = _take(request, account)
    guessing, failed = request, False

    def on_failure(sender, request=None, **kwargs) -> None:
        nonlocal failed
        failed = failed or request is guessing

    user_login_failed.connect(on_failure, weak=False, dispatch_uid=on_failure)
    try:
        yield
    finally:
        user_login_failed.disconnect(dispatch_uid=on_failure)
        if taken and not failed:
            _give_back(taken)


def _take(request: HttpRequest, value: str) -> str | None:
    """Count one guess on ``value``'s counter; the counter's cache key, to give it back,
    or None when there is nothing to give back. Throttled when it is over the limit."""
    try:
        usage = counters.usage(PASSWORD_GUESSES, value, tokens_settings.RATE_LIMIT_LOGIN)
    except (*extras.redis_errors(), OSError) as exc:
        logger.error("rate-limit cache unavailable: %s", exc.__class__.__name__)
        raise RateLimitUnavailable() from None
    if usage is None:  # RATELIMIT_ENABLE is off
        return None
    if usage.time_left < 0:  # the cache could not count: fail closed
        raise Throttled(wait=1)
    if usage.over:
        _give_back(usage.key)
        raise Throttled(wait=usage.time_left + 1)
    # The counter this guess went to, even if its window ends before the check does.
    return usage.key


def _give_back(key: str) -> None:
    """Take one count off a counter. django-ratelimit has no way to, so this decrements
    its key itself; a counter whose window has expired is left alone."""
    try:
        counters.counters().decr(key)
    except ValueError:  # the window's counter has expired: nothing to give back
        pass
    except (*extras.redis_errors(), OSError) as exc:
        # The guess stays counted: stricter, never looser.
        logger.error("rate-limit cache unavailable: %s", exc.__class__.__name__)


class _RateLimit(BaseThrottle):
    """Counts the request under every key; refuses when any count is over the rate."""

    rate_setting = "RATE_LIMIT_DEFAULT"
    keys = IP_KEYS
    # The counters' name; by default each view counts on its own.
    group: str | None = None

    def allow_request(self, request: Request, view) -> bool:
        self.retry_after = 0
        if request.method in SAFE_METHODS:
            # The limited endpoints act on POST; an OPTIONS (DRF's metadata) or a GET
            # (405) changes nothing and must not spend the client's budget.
            return True
        group = self.group or f"{type(view).__module__}.{type(view).__qualname__}"
        self.retry_after = count(
            request, group=group, rate_setting=self.rate_setting, keys=self.keys
        )
        return self.retry_after == 0

    def wait(self) -> int:
        return self.retry_after


class DefaultRate(_RateLimit):
    """RATE_LIMIT_DEFAULT per client IP: refresh, logout."""


class SensitiveRate(_RateLimit):
    """RATE_LIMIT_LOGIN per client IP: register, logout-all."""

    rate_setting = "RATE_LIMIT_LOGIN"


class LoginRate(SensitiveRate):
    """RATE_LIMIT_LOGIN per client IP, for every attempt: one host guessing many
    accounts' passwords. Many hosts guessing one account meet ``password_guess``, which
    the view puts around the password check itself."""


class PasswordCheckRate(SensitiveRate):
    """RATE_LIMIT_LOGIN per client IP and, separately, per session: change-password and
    reauthenticate. A stolen access token gets one session's budget of guesses, shared
    by the two endpoints, and no stranger can spend the owner's."""

    keys = PASSWORD_CHECK_KEYS
    group = "tokens.password_check"


class IntrospectionRate(_RateLimit):
    """RATE_LIMIT_INTROSPECTION per service (its client id), and, on a counter of their
    own, per client IP for attempts that do not authenticate (no credentials, wrong ones).

    A stranger's attempts spend their own address's budget, never a service's. An
    address over that budget is refused before its credentials are checked, so a right
    guess is refused like a wrong one and guessing a secret stays limited. The price,
    documented: strangers behind a service's own address (one NAT) can hold it up.
    The view puts authentication off until here (DRF would refuse wrong credentials
    before any throttle counted them)."""

    rate_setting = "RATE_LIMIT_INTROSPECTION"
    group = "tokens.introspection"

    def allow_request(self, request: Request, view) -> bool:
        self.retry_after = 0
        if request.method in SAFE_METHODS:
            return True
        limit = {"group": self.group, "rate_setting": self.rate_setting}
        self.retry_after = count(request, **limit, keys=IP_KEYS, increment=False)
        if self.retry_after == 0:
            keys = SERVICE_KEYS if _authenticated(request) else IP_KEYS
            self.retry_after = count(request, **limit, keys=keys)
        return self.retry_after == 0


# The introspecting service's own counter: its client id (tokens.authentication.ServiceClient).
SERVICE_KEYS = (("service", lambda group, request: request.user.client_id),)


def _authenticated(request: Request) -> bool:
    """Whether the request's credentials authenticate it; wrong ones count as none (the
    view then answers 401)."""
    try:
        return request.user.is_authenticated
    except AuthenticationFailed:
        return False
