"""Django's Redis cache, with the two costs the rate limiter paid on every request removed.

django-ratelimit counts with ``cache.add()`` then ``cache.incr()``. Django's RedisCache
builds a new ``redis.Redis`` client object for every command (a third of the limiter's
time in a profile of a refresh), and its ``incr`` is two round trips (EXISTS, then
INCRBY). Here each connection pool keeps one client (redis-py clients are thread-safe),
and ``incr`` is one atomic round trip that still refuses a missing key, as Django's
contract says: incrementing a key that just expired must not create it without a
timeout (a counter that never resets would lock a client out for good).

Each client holds one connection of its own (redis-py's ``single_connection_client``)
rather than taking one from the pool for each command: the pool's checks on every
command (the process id twice, a non-blocking read for stray data between two ioctls)
were five system calls and a fifth of the client's time, and Django already gives each
thread its own cache object. A command that fails or times out drops the connection
(redis-py), so no late answer is read by the next command; a forked child (gunicorn's
``--preload``) starts without the parent's connections.

It also waits on Redis for a fraction of a second, not redis-py's 5 s: a hung Redis (a
port that accepts and never answers) would otherwise hold every worker for 5 s per
request before the limiter's 503. A counter that cannot be read in that time is not
worth waiting for.
"""

import os
import weakref

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


# Every _Client of this process, so that a forked child can drop their connections.
_instances = weakref.WeakSet()


def _forget_connections() -> None:
    # The child must not talk on the parent's sockets (their answers would cross); redis-py
    # closes, without shutting down, a connection opened by another process.
    for client in list(_instances):
        client._clients.clear()


os.register_at_fork(after_in_child=_forget_connections)


class _Client(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}  # id(pool) -> (client, its incr script)
        _instances.add(self)

    def _client_and_incr(self, write: bool):
        pool = self._get_connection_pool(write)
        found = self._clients.get(id(pool))
        if found is None:
            client = self._client(connection_pool=pool, single_connection_client=True)
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
