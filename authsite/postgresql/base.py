"""Django's PostgreSQL backend, with a health check that costs no round trip while the
connection is sound.

Django checks a kept connection (``CONN_HEALTH_CHECKS``) with a ``SELECT 1`` before the
first query of every request: one more round trip and statement on every request. A
server that restarts, or ends the connection's backend, closes the connection, and that
reaches the client's socket as something to read (an error message, then the end of
the stream); a sound idle connection has nothing to read. So the socket is polled
first, without waiting: with nothing to read the connection is used as it is, with
anything Django's own check runs, and a dead connection is replaced before the request
uses it. A peer that vanished without closing (a host gone, a cable pulled) passes
Django's check no sooner than the first query: the connect and statement timeouts bound
both (docs/production.md).
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.connection.closed
            and not _has_input(self.connection.fileno())
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _has_input(fd: int) -> bool:
    """Whether the socket has something to read, or was closed (poll reports a hang-up
    or an error whatever the mask)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
