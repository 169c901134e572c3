"""The fuzzing's live server (authsite.testing): started once, shared, always stopped."""

import pytest

from authsite import testing


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
