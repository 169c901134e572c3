"""Browser fixtures: a fresh context per test on the page (the root conftest has the browser)."""

import pytest


@pytest.fixture
def new_page(browser, live_server):
    """Open the page in a new browser context (its own cookies: another device).

    Keyword arguments go to ``browser.new_context`` (``viewport=``, ``user_agent=``...).

    The test fails if the page's script throws or the Content-Security-Policy blocks
    anything: the page must work under its own policy.
    """
    contexts = []
    problems = []

    def open_page(**context_options):
        context = browser.new_context(base_url=live_server.url, **context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"console: {message.text}")
                if "Content Security Policy" in message.text or "Trusted Type" in message.text
                else None
            ),
        )
        page.goto("/")
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert problems == []


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def elsewhere(browser, live_server):
    """Another device that calls the API directly, with its own cookie jar.

    Returns Playwright's APIRequestContext of a fresh browser context, so requests carry
    that context's User-Agent (pass ``user_agent=`` to pick one).
    """
    contexts = []

    def open_device(**context_options):
        context = browser.new_context(base_url=live_server.url, **context_options)
        contexts.append(context)
        return context.request

    yield open_device
    for context in contexts:
        context.close()
