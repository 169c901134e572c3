"""Fixtures of the project's tests (accounts, authsite, web): the tokens app's own
(tokens/tests/fixtures.py), the browser tests' requirement, and migrated databases of
this project for live servers (authsite.testing)."""

import pytest

from authsite import testing
from tokens.tests import live
from tokens.tests.fixtures import *  # noqa: F403  (pytest finds fixtures by name)
from tokens.tests.fixtures import PASSWORD  # noqa: F401  (the project's tests import it)


def pytest_collection_modifyitems(session, config, items):
    live.require_slow_marker(items)


@pytest.fixture(autouse=True)
def _browser_only(request):
    if request.node.get_closest_marker("browser") is None:
        return
    from web.tests.browser import require_browser

    require_browser()


@pytest.fixture(scope="session")
def live_workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def live_database(live_workdir):
    """Migrated databases of this project for live servers; dropped at the end."""
    databases = live.LiveDatabase.for_this_run(live_workdir, project=testing.AUTHSITE)
    yield databases
    databases.drop_all()
