"""Fixtures of the project's tests (accounts, authsite, web): the tokens app's own
(tokens/tests/fixtures.py), and the browser tests' requirement."""

import pytest

from tokens.tests.fixtures import *  # noqa: F403  (pytest finds fixtures by name)
from tokens.tests.fixtures import PASSWORD  # noqa: F401  (the project's tests import it)


@pytest.fixture(autouse=True)
def _browser_only(request):
    if request.node.get_closest_marker("browser") is None:
        return
    from web.tests.browser import require_browser

    require_browser()
