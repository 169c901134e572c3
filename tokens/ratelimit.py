"""Rate limits: django-ratelimit counters behind DRF's throttle interface.

A view opts in with one line, ``throttle_classes = [ratelimit.LoginRate]``. Each view
class has its own counters; over the limit DRF raises ``Throttled``, which
the tokens views answer with ``429 {"detail": "RATE_LIMITED"}`` and ``Retry-After``
(``tokens.exceptions.as_coded``).
Code outside DRF (the admin's login form) calls ``count`` with the same keys.
Counters live in the default cache: Redis when ``REDIS_URL`` is set, so every worker and
host shares them; otherwise one process's memory (see tokens/checks.py).
"""

import ipaddress
import logging

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tokens import client, extras
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
    """django-ratelimit key: the client IP as tokens.client trusts it (proxies); for
    IPv6 its /64 network."""
    ip = client.client_ip(request)
    if ip is None:
        return UNKNOWN_IP
    if ipaddress.ip_address(ip).version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return ip


def login_name_key(group: str, request: HttpRequest) -> str | None:
    """django-ratelimit key: the submitted login name, normalized as it is looked up;
    None when the body names none."""
    name = submitted_login_name(request)
    return normalize_login_name(name) if name is not None else None


def user_login_name_key(group: str, request: HttpRequest) -> str | None:
    """django-ratelimit key: the authenticated caller's login name, normalized as
    ``login_name_key`` does; None when anonymous."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return normalize_login_name(user.get_username())


def submitted_login_name(request: HttpRequest) -> str | None:
    """The login name of a login body, if any: the API's JSON ``email`` or OAuth2 form
    ``username``, or a Django login form's ``username`` (the admin's)."""
    data = request.data if isinstance(request, Request) else request.POST
    if not hasattr(data, "get"):
        return None
    value = data.get("email") or data.get("username")
    return value if isinstance(value, str) and value.strip() else None


def normalize_login_name(name: str) -> str:
    """One spelling per account: the user model's own normalization (NFKC, as Django's
    login form applies it), trimmed and lower-cased as the email lookup does. For a
    model with case-sensitive names this only merges buckets: stricter, never looser."""
    return get_user_model().normalize_username(name).strip().lower()


# (counter suffix, key function) pairs; a key function returning None skips its counter.
IP_KEYS = (("ip", ip_key),)
# One account's password guesses, wherever they are made: the API's login, the admin's
# login form, change-password and reauthenticate count in one shared counter per
# account (ACCOUNT), so a thief holding an access token gets one budget, not one per door.
ACCOUNT = "account"
LOGIN_KEYS = (*IP_KEYS, (ACCOUNT, login_name_key))
PASSWORD_CHECK_KEYS = (*IP_KEYS, (ACCOUNT, user_login_name_key))
SHARED_COUNTERS = {ACCOUNT: "tokens.password_guesses"}


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
            usage = get_usage(
                request,
                group=SHARED_COUNTERS.get(suffix, f"{group}:{suffix}"),
                key=lambda g, r, v=value: v,
                rate=rate,
                increment=increment,
            )
        except (*extras.redis_errors(), OSError) as exc:
            logger.error("rate-limit cache unavailable: %s", exc.__class__.__name__)
            raise RateLimitUnavailable() from None
        if usage is None:  # RATELIMIT_ENABLE is off
            continue
        # Not incrementing, a count at the limit means the next one would be over it.
        if usage["should_limit"] if increment else usage["count"] >= usage["limit"]:
            # django-ratelimit's window is still current at time_left == 0 and ends a
            # second later; time_left is -1 when the cache could not count at all.
            retry_after = max(retry_after, usage["time_left"] + 1, 1)
    return retry_after


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
    """RATE_LIMIT_LOGIN per client IP and, separately, per submitted email (the
    account's counter, shared with every other password check of that account).

    The IP limit stops one host guessing many users' passwords; the email limit stops many
    hosts (a botnet, rotating proxies) guessing one account.
    """

    keys = LOGIN_KEYS


class PasswordCheckRate(SensitiveRate):
    """RATE_LIMIT_LOGIN per client IP and, separately, per authenticated user:
    change-password and reauthenticate, whose password checks a stolen access token
    could otherwise spread over many addresses. The per-user counter is the account's,
    shared with login and the admin's login form; the IP counter is shared by the two
    endpoints. The thief gets one budget of guesses, not one per endpoint."""

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
