"""The signed-in page as its owner sees it (issue 18, "The page, for the person who owns
the account"), at phone (390 px) and desktop (1280 px) width, in headless Chromium."""

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under REQUIRE_BROWSER=1
    expect = None

from tokens.models import RefreshToken
from web.tests.test_browser import (
    FIREFOX_ON_WINDOWS,
    PASSWORD,
    SAFARI_ON_IPHONE,
    api_login,
    log_in,
    make_proof_stale,
    register,
    technical,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
WIDTHS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
FIREFOX = "Firefox on Windows (127.0.0.1)"


def signed_in(new_page, elsewhere, email: str, viewport: dict, others=(FIREFOX_ON_WINDOWS,)):
    """The page signed in as `email` first, then the other devices (listed before it by
    the API, which puts the most recent first)."""
    page = new_page(viewport=viewport)
    register(page, email)
    log_in(page, email)
    expect(page.locator("#user-email")).to_have_text(email)
    for user_agent in others:
        api_login(elsewhere(user_agent=user_agent), email)
    technical(page, "#reload")
    expect(page.locator("#sessions li")).to_have_count(1 + len(others))
    if page.locator("#technical").count():  # (so that the page before it fails on its own)
        page.click("#technical summary")  # folded again, as the person left it
    return page


@WIDTHS
def test_one_way_to_log_out_and_the_developer_details_folded_away(new_page, elsewhere, viewport):
    page = signed_in(new_page, elsewhere, "olga@example.com", viewport)
    buttons = page.get_by_role("button", name="Log out", exact=True)
    expect(buttons).to_have_count(1)
    expect(buttons).to_be_visible()

    for hidden in ("#user-id", "#token-expires", "#reload", "#refresh"):
        expect(page.locator(hidden)).to_be_hidden()
    text = page.evaluate("document.body.innerText")
    assert str(RefreshToken.objects.filter(user__email="olga@example.com")[0].user_id) not in text
    assert "Access token" not in text
    assert "Refresh token" not in text
    assert "{#" not in text  # a template comment is never shown
    page.click("#technical summary")
    expect(page.locator("#user-id")).to_be_visible()
    expect(page.locator("#refresh")).to_be_visible()

    page.click("#logout")
    expect(page.locator("#status")).to_have_text("Logged out.")
    assert [c for c in page.context.cookies() if c["name"] == "refresh_token"] == []


@WIDTHS
def test_this_device_comes_first_and_is_marked(new_page, elsewhere, viewport):
    page = signed_in(
        new_page, elsewhere, "pia@example.com", viewport, (FIREFOX_ON_WINDOWS, SAFARI_ON_IPHONE)
    )
    first = page.locator("#sessions li").first
    expect(first).to_have_class("current")
    expect(first.locator(".badge")).to_have_text("This device")
    expect(first.locator("button")).to_have_count(0)  # it logs out with "Log out"
    expect(page.locator("#sessions li.current")).to_have_count(1)
    expect(page.locator("#sessions li:not(.current) button")).to_have_text(
        ["End session", "End session"]
    )


@WIDTHS
def test_ending_another_session_asks_first_and_names_the_device(new_page, elsewhere, viewport):
    page = signed_in(new_page, elsewhere, "quinn@example.com", viewport)
    dialog = page.locator("#confirm-dialog")

    page.click("#sessions li:not(.current) button")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"End the session of {FIREFOX}?")
    page.keyboard.press("Enter")  # the focus is on Cancel: Enter alone ends nothing
    expect(dialog).to_be_hidden()
    expect(page.locator("#sessions li")).to_have_count(2)
    assert RefreshToken.objects.filter(revoked_at__isnull=False).count() == 0

    page.click("#sessions li:not(.current) button")
    page.click("#confirm-yes")
    message = page.locator("#message")
    expect(message).to_have_text(f"{FIREFOX} was logged out.")
    expect(message).to_be_in_viewport()
    expect(page.locator("#sessions li")).to_have_count(1)
    assert RefreshToken.objects.filter(revoked_at__isnull=False).count() == 1


def test_logging_out_everywhere_asks_first(new_page, elsewhere):
    page = signed_in(new_page, elsewhere, "rosa@example.com", DESKTOP)
    page.click("#logout-all")
    expect(page.locator("#confirm-dialog")).to_contain_text("Log out from all devices?")
    page.click("#confirm-cancel")
    expect(page.locator("#confirm-dialog")).to_be_hidden()
    expect(page.locator("#signed-in")).to_be_visible()
    assert RefreshToken.objects.filter(revoked_at__isnull=False).count() == 0

    page.click("#logout-all")
    page.click("#confirm-yes")
    expect(page.locator("#status")).to_have_text("Logged out from all devices.")
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_the_password_prompt_says_which_session_it_ends(new_page, elsewhere):
    page = signed_in(new_page, elsewhere, "sam@example.com", PHONE)
    make_proof_stale("sam@example.com")
    technical(page, "#refresh")
    expect(page.locator("#message")).to_have_text("Access token refreshed.")

    page.click("#sessions li:not(.current) button")
    page.click("#confirm-yes")
    prompt = page.locator("#reauth-dialog")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text(f"Ending the session of {FIREFOX} needs your password again.")
    expect(prompt).not_to_contain_text("sessions")
    page.fill("#reauth-password", PASSWORD)
    page.click("#reauth-form button[type=submit]")
    expect(page.locator("#message")).to_have_text(f"{FIREFOX} was logged out.")


@WIDTHS
def test_a_wrong_current_password_is_said_next_to_the_form_on_screen(new_page, viewport):
    page = new_page(viewport=viewport)
    register(page, "tara@example.com")
    log_in(page, "tara@example.com")
    expect(page.locator("#user-email")).to_have_text("tara@example.com")
    page.fill("#password-current", "not the password")
    page.fill("#password-new", "another long passphrase")
    page.click("#password-form button[type=submit]")
    error = page.locator("#password-form #error")
    expect(error).to_contain_text("The current password is not right.")
    expect(error).to_be_in_viewport()

    # A success is said there too; a login error next to the login form.
    page.fill("#password-current", PASSWORD)
    page.fill("#password-new", "another long passphrase")
    page.click("#password-form button[type=submit]")
    expect(page.locator("#password-form #message")).to_have_text("Password changed.")
    expect(page.locator("#message")).to_be_in_viewport()
    page.click("#logout")
    expect(page.locator("#status")).to_have_text("Logged out.")
    log_in(page, "tara@example.com", password="not the password")
    expect(page.locator("#login-form #error")).to_be_in_viewport()


LONG_EMAIL = "maximiliana.featherstonehaugh-wolfeschlegel@subdomain.example.com"


@WIDTHS
def test_nothing_breaks_mid_word(new_page, elsewhere, viewport):
    page = signed_in(new_page, elsewhere, LONG_EMAIL, viewport)
    email = page.locator("#user-email")
    expect(email).to_have_attribute("title", LONG_EMAIL)
    lines = email.evaluate(
        "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
    )
    assert round(lines) == 1, lines  # on one line, cut short with "…" if it must be
    page.click("#technical summary")
    # Nothing on the page may break a word anywhere, and nothing sticks out sideways.
    anywhere = page.evaluate(
        "[...document.querySelectorAll('*')]"
        ".filter(e => getComputedStyle(e).overflowWrap === 'anywhere').map(e => e.id || e.tagName)"
    )
    assert anywhere == []
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    user_id = page.locator("#user-id")
    words = user_id.evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return [...r.getClientRects()].length; }"
    )
    assert words >= 1  # laid out; a UUID wraps at its hyphens only (no overflow-wrap)


def test_screenshots_at_phone_and_desktop_width(new_page, elsewhere, tmp_path):
    """Pictures for a person to look at after a change of the page (the pytest tmp dir)."""
    page = signed_in(
        new_page, elsewhere, "uma@example.com", PHONE, (FIREFOX_ON_WINDOWS, SAFARI_ON_IPHONE)
    )
    for name, viewport in (("390", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(viewport)
        page.screenshot(path=tmp_path / f"signed-in-{name}.png", full_page=True)
        page.click("#sessions li:not(.current) button >> nth=0")
        expect(page.locator("#confirm-dialog")).to_be_visible()
        page.screenshot(path=tmp_path / f"confirm-{name}.png")
        page.click("#confirm-cancel")
        page.fill("#password-current", "not the password")
        page.fill("#password-new", "another long passphrase")
        page.click("#password-form button[type=submit]")
        expect(page.locator("#password-form #error")).to_be_in_viewport()
        page.screenshot(path=tmp_path / f"password-error-{name}.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{kind}-{width}.png"
        for kind in ("signed-in", "confirm", "password-error")
        for width in ("390", "1280")
    )
    print(f"screenshots: {tmp_path}")
