"""Django's Redis cache, with the two costs the rate limiter paid on every request removed.

django-ratelimit counts with ``cache.add()`` then ``cache.incr()``. Django's RedisCache
builds a new ``redis.Redis`` client object for every command (a third of the limiter's
time in a profile of a refresh), and its ``incr`` is two round trips (EXISTS, then
INCRBY). Here each connection pool keeps one client (redis-py clients are thread-safe),
and ``incr`` is one atomic round trip that still refuses a missing key, as Django's
contract says: incrementing a key that just expired must not create it without a
timeout (a counter that never resets would lock a client out for good).

It also waits on Redis for a fraction of a second, not redis-py's 5 s: a hung Redis (a
port that accepts and never answers) would otherwise hold every worker for 5 s per
request before the limiter's 503. A counter that cannot be read in that time is not
worth waiting for.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# Seconds to connect, and to wait for any answer, unless OPTIONS (or the URL's
# ?socket_timeout= and ?socket_connect_timeout=, which redis-py prefers) say otherwise.
# A healthy Redis answers a counter in well under a millisecond on the same network.
TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}

# INCRBY only if the key exists; nil otherwise. One round trip, atomic in Redis.
_INCR_EXISTING = """
if redis.call('exists', KEYS[1]) == 1 then
    return redis.call('incrby', KEYS[1], ARGV[1])
end
return nil
"""


class _Client(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}  # id(pool) -> (client, its incr script)

    def _client_and_incr(self, write: bool):
        pool = self._get_connection_pool(write)
        found = self._clients.get(id(pool))
        if found is None:
            client = self._client(connection_pool=pool)
            # EVALSHA, loading the script again if Redis lost it (a restart, SCRIPT FLUSH).
            found = self._clients[id(pool)] = (client, client.register_script(_INCR_EXISTING))
        return found

    def get_client(self, key=None, *, write=False):
        return self._client_and_incr(write)[0]

    def incr(self, key, delta):
        value = self._client_and_incr(True)[1](keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache``, configured the same way, with
    short timeouts by default (``TIMEOUTS``)."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _Client
        self._options = {**TIMEOUTS, **self._options}
