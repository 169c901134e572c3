"""authsite.cache.RedisCache keeps Django's cache contract, against a real Redis."""

import uuid

import pytest
from django.core.cache import caches

from tokens.tests import live

pytestmark = pytest.mark.redis


@pytest.fixture
def cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "authsite.cache.RedisCache", "LOCATION": live.REDIS_TEST_URL}
    }
    cache = caches["default"]
    yield cache
    cache.close()


def key() -> str:
    return f"tokens-cache-test-{uuid.uuid4().hex}"


def test_incr_of_a_missing_key_raises_and_creates_nothing(cache):
    name = key()
    with pytest.raises(ValueError):
        cache.incr(name)
    assert cache.get(name) is None


def test_incr_counts_and_keeps_the_timeout(cache):
    name = key()
    assert cache.add(name, 1, 60)
    assert cache.incr(name) == 2
    assert cache.incr(name, 5) == 7
    assert cache.get(name) == 7
    ttl = cache._cache.get_client(name).ttl(cache.make_and_validate_key(name))
    assert 0 < ttl <= 60  # the counter still expires


def test_one_client_per_pool(cache):
    assert cache._cache.get_client("a", write=True) is cache._cache.get_client("b", write=True)


def test_the_rate_limiter_counts_through_it(cache, rf):
    from django_ratelimit.core import get_usage

    request = rf.post("/")
    group = key()
    counts = [
        get_usage(request, group=group, key=lambda g, r: "k", rate="5/m", increment=True)["count"]
        for _ in range(3)
    ]
    assert counts == [1, 2, 3]


@pytest.mark.parametrize(
    "location, options, expected",
    [
        (live.REDIS_TEST_URL, {}, (0.5, 0.5)),  # a hung Redis costs half a second
        (live.REDIS_TEST_URL, {"socket_timeout": 2}, (2, 0.5)),
        (f"{live.REDIS_TEST_URL}?socket_timeout=3&socket_connect_timeout=1", {}, (3, 1)),
    ],
)
def test_short_timeouts_unless_configured(settings, location, options, expected):
    settings.CACHES = {
        "default": {
            "BACKEND": "authsite.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": options,
        }
    }
    pool = caches["default"]._cache._get_connection_pool(write=True)
    kwargs = pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == expected


def test_a_request_within_a_window_is_one_round_trip(cache, monkeypatch):
    """A refresh counts on the client's IP counter: once the window has one, counting
    is one command to Redis (django-ratelimit's own get_usage sends two, add then incr)."""
    from redis.connection import Connection

    from tokens import counters

    sent = []
    send = Connection.send_packed_command

    def spy(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", spy)
    group = key()
    usages = []
    for _ in range(3):
        sent.clear()
        usages.append(counters.usage(group, "k", "5/m"))
    assert [u.count for u in usages] == [1, 2, 3]
    assert len(sent) == 1
    # The counter still expires with its window.
    stored = cache.make_and_validate_key(usages[0].key)
    assert 0 < cache._cache.get_client(stored).ttl(stored) <= 65


def test_commands_reuse_the_client_connection(cache, monkeypatch):
    """The pool hands out a connection once, not once per command (its per-command
    checks cost five system calls a refresh)."""
    from redis.connection import ConnectionPool

    from tokens import counters

    handed_out = []
    get_connection = ConnectionPool.get_connection

    def spy(self, *args, **kwargs):
        connection = get_connection(self, *args, **kwargs)
        handed_out.append(connection)
        return connection

    monkeypatch.setattr(ConnectionPool, "get_connection", spy)
    group = key()
    assert [counters.usage(group, "k", "5/m").count for _ in range(3)] == [1, 2, 3]
    assert cache.add(key(), 1, 60)
    assert len(handed_out) <= 1


def test_a_timed_out_command_does_not_leave_its_answer_to_the_next(cache):
    """A command that times out drops the client's connection: its late answer is never
    read as the next command's."""
    import time

    import redis

    name = key()
    cache.set(name, "mine", 60)  # the client's connection is open
    client = cache._cache.get_client(write=True)
    started = time.monotonic()
    with pytest.raises(redis.exceptions.TimeoutError):
        # Redis answers (nil) after 1 s; the client gives up after its 0.5 s timeout.
        client.blpop([f"{name}-empty-list"], timeout=1)
    time.sleep(max(0.0, started + 1.3 - time.monotonic()))  # the late nil has arrived
    assert cache.get(name) == "mine"


def test_a_forked_child_opens_its_own_connection(cache):
    """gunicorn's --preload forks workers from a process that may have counted: a child
    talking on the parent's socket would read the parent's answers."""
    import os

    name = key()
    assert cache.add(name, 1, 60)
    parent_port = cache._cache.get_client(write=True).connection._sock.getsockname()[1]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: count on the same cache object, report its socket's port
        try:
            value = cache.incr(name)
            port = cache._cache.get_client(write=True).connection._sock.getsockname()[1]
            os.write(write, f"{value} {port}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        value, port = answer.read().split()
    os.waitpid(pid, 0)
    assert int(value) == 2
    assert int(port) != parent_port
    assert cache.incr(name) == 3  # the parent's connection still works
