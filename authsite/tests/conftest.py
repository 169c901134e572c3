"""Session-wide live servers of this project (authsite.testing): started once,
shared, always stopped."""

import pytest

from authsite import testing
from tokens.tests import live


@pytest.fixture(scope="session")
def live_workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def live_database(live_workdir):
    """Migrated databases of this project for live servers; dropped at the end."""
    databases = live.LiveDatabase.for_this_run(live_workdir, project=testing.AUTHSITE)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def fuzz_server(live_database, live_workdir):
    """One gunicorn worker with rate limits raised, for generated requests."""
    env = testing.base_env(
        DATABASE_URL=live_database.url(),
        RATE_LIMIT_LOGIN="100000/m",
        RATE_LIMIT_DEFAULT="100000/m",
        SESSIONS_PER_USER_LIMIT="0",
    )
    server = testing.start_server(env, live_workdir)
    yield server
    server.stop()
