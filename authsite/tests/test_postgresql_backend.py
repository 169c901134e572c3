"""authsite.postgresql: Django's health check of a kept connection, without its round
trip while the connection is sound; against a real PostgreSQL."""

import time

import psycopg
import pytest
from django.db import OperationalError, connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def statements(monkeypatch):
    """Every statement psycopg sends from now on, the health check's included (Django
    sends it outside its own cursor wrappers)."""
    sent = []
    execute = psycopg.Cursor.execute

    def spy(self, query, *args, **kwargs):
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    return sent


def next_request() -> None:
    """What Django does between two requests of a worker (request_started)."""
    connection.close_if_unusable_or_obsolete()


def end_backend_of(pid: int) -> None:
    """PostgreSQL ends the connection's backend, as a restart or an administrator does."""
    params = connection.get_connection_params()
    with psycopg.connect(
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        dbname=params["dbname"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline
            time.sleep(0.01)


def query_backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_project_uses_it_with_health_checks():
    assert connection.settings_dict["ENGINE"] == "authsite.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_sound_connection_is_used_without_a_round_trip(statements):
    first = query_backend_pid()
    next_request()
    statements.clear()
    assert query_backend_pid() == first
    assert statements == ["SELECT pg_backend_pid()"]


def test_a_connection_the_server_ended_is_replaced_before_a_query_uses_it(statements):
    ended = query_backend_pid()
    end_backend_of(ended)
    next_request()
    statements.clear()
    assert query_backend_pid() != ended
    assert statements[0] == "SELECT 1"  # Django's own check found it dead


def test_without_the_check_the_request_would_have_failed():
    """The test above ends the connection for real: unchecked, the query fails."""
    end_backend_of(query_backend_pid())
    next_request()
    connection.health_check_enabled = False
    try:
        with pytest.raises(OperationalError):
            query_backend_pid()
    finally:
        connection.health_check_enabled = True
        connection.close()
