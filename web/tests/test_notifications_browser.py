"""The page's security-email switch, and the link the emails carry, in headless Chromium."""

import pytest
from django.core import mail

from tokens import notifications
from web.tests.test_browser import log_in, register

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under REQUIRE_BROWSER=1
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]


def register_and_log_in(page, email: str) -> None:
    register(page, email)
    log_in(page, email)
    expect(page.locator("#user-email")).to_have_text(email)


def test_the_new_device_email_is_switched_off_and_on_from_the_page(page):
    from django.contrib.auth import get_user_model

    register_and_log_in(page, "grace@example.com")
    # This first login came from a device the account never used: its email went out
    # (tasks run at once in tests; the page's server is this process).
    assert [m.subject for m in mail.outbox] == [
        "New sign-in to your account from HeadlessChrome on Linux"
    ]
    box = page.locator("#notify-new-device")
    expect(box).to_be_enabled()
    expect(box).to_be_checked()

    box.uncheck()
    expect(page.locator("#message")).to_have_text(
        "You will not be emailed about new devices any more."
    )
    user = get_user_model()._default_manager.get_by_natural_key("grace@example.com")
    assert notifications.wants_new_device_email(user) is False

    page.reload()  # the page shows what the server stored
    expect(page.locator("#user-email")).to_have_text("grace@example.com")
    expect(box).to_be_enabled()
    expect(box).not_to_be_checked()

    box.check()
    expect(page.locator("#message")).to_have_text(
        "You will be emailed when your account signs in from a new device."
    )
    assert notifications.wants_new_device_email(user) is True


def test_the_emails_link_lands_on_the_session_list(new_page):
    # A small phone screen: the list starts below the fold.
    page = new_page(viewport={"width": 390, "height": 300})
    register_and_log_in(page, "heidi@example.com")
    page.goto("/#sessions")
    expect(page.locator("#sessions li.current")).to_have_count(1)
    expect(page.locator("#sessions li.current")).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 0  # scrolled there once the list was shown
