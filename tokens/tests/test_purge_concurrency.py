"""A purge running while the service refreshes sessions, with real connections."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from tokens import crypto, maintenance, services
from tokens.errors import RefreshTokenInvalid
from tokens.models import RefreshToken
from tokens.tests.factories import make_sessions

REFRESHERS = 3
RACING = 90  # sessions that expire between the refreshes' clock and the purge's
DEAD = 300  # sessions that nobody refreshes: the purge must delete them all


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_purge_never_deletes_a_session_refreshed_meanwhile(user):
    t0 = timezone.now()
    refresh_at = t0 + timedelta(seconds=30)  # the racing sessions are live then...
    purge_at = t0 + timedelta(minutes=2)  # ...and expired here, unless refreshed
    racing = make_sessions(user, RACING, now=t0, expires_in=timedelta(minutes=1))
    dead = make_sessions(user, DEAD, now=t0, expires_in=-timedelta(minutes=1))
    live = make_sessions(user, 20, now=t0, expires_in=timedelta(days=1))

    start = threading.Barrier(REFRESHERS + 1)
    refreshed: list[uuid.UUID] = []
    refused: list[uuid.UUID] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def refresher(chunk):
        try:
            start.wait()
            for session in chunk:
                token = crypto.encode(session.id, session.generation)
                try:
                    services.refresh(token, now=refresh_at)
                except RefreshTokenInvalid:  # the purge deleted it first: fair
                    with lock:
                        refused.append(session.id)
                else:
                    with lock:
                        refreshed.append(session.id)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def purger():
        try:
            start.wait()
            maintenance.purge_expired(batch_size=7, now=purge_at)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=refresher, args=(racing[i::REFRESHERS],)) for i in range(REFRESHERS)
    ] + [threading.Thread(target=purger)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(refreshed) + len(refused) == RACING

    left = set(RefreshToken.objects.values_list("id", flat=True))
    # Every refresh that succeeded kept its session: none was deleted afterwards.
    assert set(refreshed) <= left
    assert not (set(refused) & left)
    assert {s.id for s in live} <= left
    assert not ({s.id for s in dead} & left)
    # Whatever the purge did not reach in time is refreshed and live now.
    assert all(session.is_live(purge_at) for session in RefreshToken.objects.all())
