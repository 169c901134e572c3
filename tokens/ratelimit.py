"""Rate limits: django-ratelimit counters behind DRF's throttle interface.

A view opts in with one line, ``throttle_classes = [ratelimit.LoginRate]``. Each view
class has its own counters; over the limit DRF raises ``Throttled``, which
``authsite.errors`` answers with ``429 {"detail": "RATE_LIMITED"}`` and ``Retry-After``.
Counters live in the default cache: Redis when ``REDIS_URL`` is set, so every worker and
host shares them; otherwise one process's memory (see tokens/checks.py).
"""

import ipaddress
import logging

from django.conf import settings
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from accounts.models import normalize_email
from tokens import client
from tokens.errors import RateLimitUnavailable

logger = logging.getLogger(__name__)

# A request with no usable address (a Unix-socket proxy that sets no REMOTE_ADDR) still
# counts, in one bucket shared by all such requests, rather than escaping the limit.
UNKNOWN_IP = "unknown"
# One IPv6 host usually holds a whole /64 and can pick any address in it, so the /64 is
# what counts (django-ratelimit's own "ip" key does the same).
IPV6_PREFIX = 64


def ip_key(group: str, request: Request) -> str:
    """django-ratelimit key: the client IP as tokens.client trusts it (proxies); for
    IPv6 its /64 network."""
    ip = client.client_ip(request)
    if ip is None:
        return UNKNOWN_IP
    if ipaddress.ip_address(ip).version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return ip


def email_key(group: str, request: Request) -> str:
    """django-ratelimit key: the submitted login name, normalized as it is looked up."""
    return normalize_email(submitted_email(request) or "")


def submitted_email(request: Request) -> str | None:
    """The email of a login body (JSON ``email`` or OAuth2 form ``username``), if any."""
    data = request.data
    if not hasattr(data, "get"):
        return None
    value = data.get("email") or data.get("username")
    return value if isinstance(value, str) and value.strip() else None


class _RateLimit(BaseThrottle):
    """Counts the request under every key; refuses when any count is over the rate."""

    rate_setting = "RATE_LIMIT_DEFAULT"
    by_email = False

    def allow_request(self, request: Request, view) -> bool:
        self.retry_after = 0
        if request.method in SAFE_METHODS:
            # The limited endpoints act on POST; an OPTIONS (DRF's metadata) or a GET
            # (405) changes nothing and must not spend the client's budget.
            return True
        group = f"{type(view).__module__}.{type(view).__qualname__}"
        # The IP first: a body that cannot be parsed (read for the email) still counts.
        self._count(request, f"{group}:ip", ip_key)
        if self.by_email and submitted_email(request) is not None:
            self._count(request, f"{group}:email", email_key)
        return self.retry_after == 0

    def _count(self, request: Request, group: str, key) -> None:
        rate = getattr(settings, self.rate_setting)
        try:
            usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
        except (RedisError, OSError) as exc:
            logger.error("rate-limit cache unavailable: %s", exc.__class__.__name__)
            raise RateLimitUnavailable() from None
        if usage is not None and usage["should_limit"]:
            # django-ratelimit's window is still current at time_left == 0 and ends a
            # second later; time_left is -1 when the cache could not count at all.
            self.retry_after = max(self.retry_after, usage["time_left"] + 1, 1)

    def wait(self) -> int:
        return self.retry_after


class DefaultRate(_RateLimit):
    """RATE_LIMIT_DEFAULT per client IP: refresh, logout."""


class SensitiveRate(_RateLimit):
    """RATE_LIMIT_LOGIN per client IP: register, logout-all, change-password."""

    rate_setting = "RATE_LIMIT_LOGIN"


class LoginRate(SensitiveRate):
    """RATE_LIMIT_LOGIN per client IP and, separately, per submitted email.

    The IP limit stops one host guessing many accounts; the email limit stops many
    hosts (a botnet, rotating proxies) guessing one account.
    """

    by_email = True
