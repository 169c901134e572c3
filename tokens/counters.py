"""django-ratelimit's counters, counted in one cache round trip.

django-ratelimit's ``get_usage`` counts with ``cache.add()`` and then ``cache.incr()``:
two round trips to Redis for every limited request once the window's counter exists
(three with Django's own Redis backend, whose ``incr`` first asks whether the key
exists), and a refresh is one such request. Here the counter is incremented first and
created only when the window has none, so a client pays one ``incr`` (one round trip
with the project's cache, authsite/cache.py). The keys, windows and settings
(``RATELIMIT_ENABLE``, ``RATELIMIT_USE_CACHE``, ``RATELIMIT_FAIL_OPEN``, the key prefix
and hash) are django-ratelimit's own, through its helpers; they are private, so the
dependency is pinned below 5.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django_ratelimit.core import (
    EXPIRATION_FUDGE,
    _get_window,
    _make_cache_key,
    _split_rate,
    get_usage,
)


@dataclass(frozen=True)
class Usage:
    """One counter after a request: what ``get_usage`` returns, and its cache key."""

    key: str  # the counter of the current window (to give a count back)
    count: int
    limit: int
    over: bool  # beyond the limit: refuse the request
    time_left: int  # seconds until the window ends; -1 when the cache lost the count


def counters():
    """The cache that holds the counters (django-ratelimit's ``RATELIMIT_USE_CACHE``)."""
    return caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]


def usage(group: str, value: str, rate: str, *, increment: bool = True) -> Usage | None:
    """The counter of ``value`` in ``group`` for the current window of ``rate``,
    counting this request unless ``increment`` is False. None when RATELIMIT_ENABLE is
    off. A count the cache lost is over the limit (``time_left`` -1), or None with
    RATELIMIT_FAIL_OPEN, as in django-ratelimit. Cache errors are the caller's."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return None
    limit, period = _split_rate(rate)
    window = _get_window(value, period)
    key = _make_cache_key(group, window, rate, value, get_usage.ALL)
    cache = counters()
    count = _increment(cache, key, period) if increment else cache.get(key, 0)
    if count is None:
        if getattr(settings, "RATELIMIT_FAIL_OPEN", False):
            return None
        return Usage(key, 0, 0, over=True, time_left=-1)
    return Usage(key, count, limit, over=count > limit, time_left=window - int(time.time()))


def _increment(cache, key: str, period: int) -> int | None:
    """The counter plus one: ``incr`` when the window's counter exists (the common
    case), else ``add`` with the window's timeout; None if neither could count it."""
    try:
        return cache.incr(key)
    except ValueError:  # no counter in this window yet
        pass
    if cache.add(key, 1, period + EXPIRATION_FUDGE):
        return 1
    try:
        return cache.incr(key)  # another request created it meanwhile
    except ValueError:
        return None
