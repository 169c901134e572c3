"""Fixtures of the project's tests (accounts, authsite, web): the tokens app's own
(tokens/tests/fixtures.py), the browser tests' requirement, and migrated databases of
this project for live servers (authsite.testing), and the headless browser."""

import os

import pytest

from authsite import testing
from tokens.tests import live
from tokens.tests.fixtures import *  # noqa: F403  (pytest finds fixtures by name)
from tokens.tests.fixtures import PASSWORD  # noqa: F401  (the project's tests import it)

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


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


@pytest.fixture(scope="module")
def browser():
    """The system's Chromium driven by Playwright, shared by the module's browser tests.

    Module-scoped, so that the lifted async check below ends with each module's browser
    tests instead of leaking into the rest of the session.
    """
    from web.tests import browser as chromium

    chromium.require_browser()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API parks an asyncio loop in a greenlet of this thread, so
    # Django's async-safety check mistakes every later ORM call here (the test database's
    # setup and flushes) for one made inside a coroutine (playwright-python #439). Nothing
    # async runs while the test thread is in Django, so the check is lifted while the
    # browser lives, and only then.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(
                executable_path=str(chromium.CHROMIUM), args=chromium.CHROMIUM_ARGS
            )
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous
