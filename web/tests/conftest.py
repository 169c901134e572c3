"""Browser fixtures: one headless Chromium for the browser tests, a fresh context per test."""

import os

import pytest

from web.tests import browser as chromium

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="module")
def browser():
    """The system's Chromium driven by Playwright, shared by the module's browser tests.

    Module-scoped (all browser tests live in one module) so that the lifted async
    check below ends with them instead of leaking into the rest of the session.
    """
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
