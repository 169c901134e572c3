"""The tokens app's tests: its fixtures (tokens/tests/fixtures.py), its markers, and
session-wide live servers (started once, shared, always stopped).

They run under the app's own project, tokens.tests.settings: ``./scripts/test
tokens/tests`` from a checkout (tokens/tests/pytest.ini), ``python -m pytest --pyargs
tokens.tests --ds=tokens.tests.settings`` with the wheel installed.
"""

import pytest

from tokens.tests import live
from tokens.tests.fixtures import *  # noqa: F403  (pytest finds fixtures by name)

MARKERS = (
    "redis: needs Redis at REDIS_TEST_URL (default redis://127.0.0.1:6379/1); skipped when "
    "it is down unless REQUIRE_REDIS=1 turns the skip into a failure",
    "postgres: needs PostgreSQL (row locks, real concurrent connections); skipped on SQLite "
    "unless REQUIRE_POSTGRES=1 turns the skip into a failure",
    "slow: starts servers, workers or PgBouncer (seconds each); ./scripts/test leaves these "
    "out, ./scripts/test --all and CI run them",
)


def pytest_configure(config):
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)


def pytest_collection_modifyitems(session, config, items):
    from django.conf import settings

    if settings.ROOT_URLCONF != "tokens.tests.urls":
        raise pytest.UsageError(
            "The tokens tests run under their own project, tokens.tests.settings: "
            "./scripts/test tokens/tests, or --ds=tokens.tests.settings."
        )
    live.require_slow_marker(items)


@pytest.fixture(scope="session")
def live_workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def live_database(live_workdir):
    """Migrated databases for live servers, of the suite's own vendor; dropped at the end."""
    databases = live.LiveDatabase.for_this_run(live_workdir)
    yield databases
    databases.drop_all()
