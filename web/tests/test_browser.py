"""The web page in a real browser (headless Chromium) against the live server."""

import os

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under REQUIRE_BROWSER=1
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "a long enough passphrase"
SCREENSHOT = "/tmp/web-page.png"  # noqa: S108 (a look at the page, never read back)
ENDED_ELSEWHERE = "This session was ended on another device or by an administrator."


def register(page, email: str, password: str = PASSWORD) -> None:
    page.fill("#register-email", email)
    page.fill("#register-password", password)
    page.click("#register-form button[type=submit]")
    expect(page.locator("#message")).to_contain_text(f"Registered {email}")


def log_in(page, email: str, password: str = PASSWORD) -> None:
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")


def technical(page, button: str) -> None:
    """Click a developer's button ("#reload", "#refresh"), inside the "Technical details"."""
    details = page.locator("#technical")
    if details.count() and details.get_attribute("open") is None:  # count: the page before it
        page.click("#technical summary")
    page.click(button)


def test_login_shows_the_user_keeps_the_cookie_httponly_and_a_reload_restores(page):
    expect(page.locator("#status")).to_have_text("Not signed in.")
    register(page, "alice@example.com")
    log_in(page, "alice@example.com")
    expect(page.locator("#user-email")).to_have_text("alice@example.com")

    # The refresh token is in the browser's cookie jar, for /api/auth only, and out of
    # the page's reach; the access token is nowhere in the page's storage.
    [cookie] = [c for c in page.context.cookies() if c["name"] == "refresh_token"]
    assert cookie["httpOnly"] is True
    assert cookie["path"] == "/api/auth"
    assert "refresh_token" not in page.evaluate("document.cookie")
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0

    sessions = page.locator("#sessions li")
    expect(sessions).to_have_count(1)
    expect(sessions.first).to_have_class("current")
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.reload()
    expect(page.locator("#user-email")).to_have_text("alice@example.com")
    expect(page.locator("#sessions li.current")).to_have_count(1)


def test_concurrent_401s_share_one_refresh(page):
    register(page, "carol@example.com")
    log_in(page, "carol@example.com")
    expect(page.locator("#user-email")).to_have_text("carol@example.com")

    # The next "me" and "sessions" calls (sent together) carry an access token that the
    # server now refuses, as if it had expired: they must await one refresh, then retry.
    # Refusing by token (not by count) keeps the test true whatever the interleaving:
    # a call sent after the refresh carries the new token and goes through.
    stale, refused = [], []

    def expire_stale(route):
        token = route.request.headers.get("authorization")
        if not stale:
            stale.append(token)  # the first call still carries the token from before
        if token == stale[0]:
            refused.append(route.request.url)
            route.fulfill(
                status=401,
                content_type="application/json",
                body='{"detail": "ACCESS_TOKEN_INVALID"}',
            )
        else:
            route.continue_()

    page.route("**/api/users/me", expire_stale)
    page.route("**/api/auth/sessions", expire_stale)
    # Counted by a route, not a "request" listener: a route runs before the request
    # goes out, so every refresh is counted by the time the retried calls complete.
    refreshes = []

    def count_refresh(route):
        refreshes.append(route.request.url)
        route.continue_()

    page.route("**/api/auth/refresh", count_refresh)

    def succeeded(path):
        return lambda response: response.url.endswith(path) and response.status == 200

    # Wait for the retried calls themselves: the page still shows what it showed before
    # the click, so checking the page alone could pass before anything happened.
    with (
        page.expect_response(succeeded("/api/users/me")),
        page.expect_response(succeeded("/api/auth/sessions")),
    ):
        technical(page, "#reload")
    expect(page.locator("#sessions li.current")).to_have_count(1)
    expect(page.locator("#user-email")).to_have_text("carol@example.com")
    expect(page.locator("#error")).to_be_hidden()
    assert refused  # the stale token was refused at least once
    assert len(refreshes) == 1


def test_revoking_another_session_logs_that_device_out(new_page):
    laptop = new_page()
    register(laptop, "bob@example.com")
    log_in(laptop, "bob@example.com")
    expect(laptop.locator("#user-email")).to_have_text("bob@example.com")

    phone = new_page()
    log_in(phone, "bob@example.com")
    expect(phone.locator("#user-email")).to_have_text("bob@example.com")

    technical(laptop, "#reload")
    expect(laptop.locator("#sessions li")).to_have_count(2)
    laptop.click("#sessions li:not(.current) button.revoke")
    laptop.click("#confirm-yes")
    expect(laptop.locator("#message")).to_contain_text("was logged out.")
    expect(laptop.locator("#sessions li")).to_have_count(1)

    # The phone's access token died with its session, and so did its refresh cookie:
    # the phone says so, as the end of its session, not as an error of the reload.
    technical(phone, "#reload")
    expect(phone.locator("#signed-out")).to_be_visible()
    expect(phone.locator("#message")).to_have_text(ENDED_ELSEWHERE)
    expect(phone.locator("#error")).to_be_hidden()
    expect(laptop.locator("#user-email")).to_have_text("bob@example.com")


def test_change_password_then_log_out_everywhere(new_page):
    laptop = new_page()
    register(laptop, "frank@example.com")
    log_in(laptop, "frank@example.com")
    phone = new_page()
    log_in(phone, "frank@example.com")
    expect(phone.locator("#user-email")).to_have_text("frank@example.com")

    laptop.fill("#password-current", PASSWORD)
    laptop.fill("#password-new", "another long passphrase")
    laptop.click("#password-form button[type=submit]")
    expect(laptop.locator("#message")).to_have_text(
        "Password changed. 1 other session was logged out."
    )
    expect(laptop.locator("#sessions li")).to_have_count(1)
    technical(phone, "#reload")
    expect(phone.locator("#signed-out")).to_be_visible()

    laptop.click("#logout-all")
    laptop.click("#confirm-yes")
    expect(laptop.locator("#status")).to_have_text("Logged out from all devices.")
    laptop.reload()
    expect(laptop.locator("#status")).to_have_text("Not signed in.")


def test_wrong_password_shows_a_sentence_and_the_code(page):
    register(page, "dave@example.com")
    log_in(page, "dave@example.com", password="not the password")
    expect(page.locator("#error")).to_have_text(
        "Could not log in. The email or password is not right. LOGIN_BAD_CREDENTIALS"
    )
    expect(page.locator("#signed-out")).to_be_visible()


def test_logout_forgets_the_user_and_a_reload_does_not_restore(page):
    register(page, "erin@example.com")
    log_in(page, "erin@example.com")
    expect(page.locator("#user-email")).to_have_text("erin@example.com")

    page.click("#logout")
    expect(page.locator("#status")).to_have_text("Logged out.")
    expect(page.locator("#signed-out")).to_be_visible()
    expect(page.locator("#user-email")).to_have_text("")
    assert [c for c in page.context.cookies() if c["name"] == "refresh_token"] == []

    page.reload()
    expect(page.locator("#status")).to_have_text("Not signed in.")
    expect(page.locator("#signed-in")).to_be_hidden()


def test_api_docs_render_under_their_content_security_policy(browser, live_server):
    """Swagger UI at /api/docs/ works with its strict policy: nothing is blocked."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    problems = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"console: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        response = page.goto("/api/docs/")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("authsite")
        expect(page.locator(".opblock-summary-path").first).to_be_visible()
        expect(page.locator(".opblock-summary-path", has_text="/api/auth/login")).to_be_visible()
    finally:
        context.close()
    assert problems == []


# --- The newcomer's findings (issue "Adoption", section "The page at /") ----------------

FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


def look(page, name: str) -> None:
    """With WEB_SCREENSHOTS=<directory>, save what the page looks like now, for a person."""
    screens = os.environ.get("WEB_SCREENSHOTS")
    if screens:
        page.screenshot(path=f"{screens}/web-{name}.png", full_page=True)


def api_login(device, email: str, password: str = PASSWORD) -> dict:
    """Log in from another device through the API; returns its Authorization header."""
    response = device.post("/api/auth/login", data={"email": email, "password": password})
    assert response.ok, response.text()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_errors_read_as_sentences_with_the_code_in_small_type(page):
    register(page, "gina@example.com")
    error = page.locator("#error")

    log_in(page, "gina@example.com", password="not the password")
    expect(error).to_have_text(
        "Could not log in. The email or password is not right. LOGIN_BAD_CREDENTIALS"
    )
    expect(error.locator("small code")).to_have_text("LOGIN_BAD_CREDENTIALS")
    look(page, "login-error")

    page.fill("#register-email", "GINA@example.com")
    page.fill("#register-password", PASSWORD)
    page.click("#register-form button[type=submit]")
    expect(error.locator("small code")).to_have_text("REGISTER_USER_ALREADY_EXISTS")
    expect(error).to_contain_text("An account with this email already exists.")

    # DRF's field errors: the validators' own sentences, under the field's label.
    page.fill("#register-email", "gina2@example.com")
    page.fill("#register-password", "password1")
    page.click("#register-form button[type=submit]")
    expect(error).to_have_text("Could not register. Password: This password is too common.")
    look(page, "register-field-error")
    expect(error.locator("code")).to_have_count(0)

    # Anything else a page action can meet: here the rate limit, and a dead network.
    page.route(
        "**/api/auth/login",
        lambda route: route.fulfill(
            status=429, content_type="application/json", body='{"detail": "RATE_LIMITED"}'
        ),
    )
    log_in(page, "gina@example.com")
    expect(error.locator("small code")).to_have_text("RATE_LIMITED")
    expect(error).to_contain_text("Too many attempts.")
    page.unroute("**/api/auth/login")
    page.route("**/api/auth/login", lambda route: route.abort())
    log_in(page, "gina@example.com")
    expect(error).to_contain_text("The server could not be reached.")
    page.unroute("**/api/auth/login")

    log_in(page, "gina@example.com")
    expect(page.locator("#user-email")).to_have_text("gina@example.com")
    page.fill("#password-current", "not the password")
    page.fill("#password-new", "another long passphrase")
    page.click("#password-form button[type=submit]")
    expect(error).to_have_text(
        "Could not change the password. The current password is not right. "
        "CHANGE_PASSWORD_INVALID_CURRENT"
    )


def test_sessions_name_the_device_on_one_line_at_phone_width(new_page, elsewhere):
    page = new_page(viewport=PHONE)
    register(page, "hugo@example.com")
    log_in(page, "hugo@example.com")
    expect(page.locator("#user-email")).to_have_text("hugo@example.com")
    api_login(elsewhere(user_agent=FIREFOX_ON_WINDOWS), "hugo@example.com")
    iphone = elsewhere(user_agent=SAFARI_ON_IPHONE)
    listed = iphone.get("/api/auth/sessions", headers=api_login(iphone, "hugo@example.com"))

    technical(page, "#reload")
    rows = page.locator("#sessions li")
    expect(rows).to_have_count(3)
    for session in listed.json():
        row = page.locator(f'#sessions li[data-session-id="{session["id"]}"]')
        device = row.locator(".device")
        expect(device).to_have_text(session["device"])
        expect(device).to_have_attribute("title", session["user_agent"])
        lines = device.evaluate(
            "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
        )
        assert round(lines) == 1, (session["device"], lines)
    assert {s["device"] for s in listed.json()} >= {"Firefox on Windows", "Mobile Safari on iOS"}
    # Nothing sticks out sideways on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    look(page, "signed-in-3-sessions-phone")
    page.set_viewport_size(DESKTOP)
    look(page, "signed-in-3-sessions-desktop")


def test_signed_in_as_is_said_once(page):
    register(page, "iris@example.com")
    log_in(page, "iris@example.com")
    expect(page.locator("#user-email")).to_have_text("iris@example.com")
    assert page.evaluate("document.body.innerText.split('Signed in as').length - 1") == 1


def test_password_fields_are_cleared_after_every_answer_and_the_email_kept(page):
    register(page, "jack@example.com")

    page.fill("#register-email", "jack@example.com")
    page.fill("#register-password", PASSWORD)
    page.click("#register-form button[type=submit]")
    expect(page.locator("#error")).to_contain_text("REGISTER_USER_ALREADY_EXISTS")
    expect(page.locator("#register-password")).to_have_value("")
    expect(page.locator("#register-email")).to_have_value("jack@example.com")

    log_in(page, "jack@example.com", password="not the password")
    expect(page.locator("#error")).to_contain_text("LOGIN_BAD_CREDENTIALS")
    expect(page.locator("#login-password")).to_have_value("")
    expect(page.locator("#login-email")).to_have_value("jack@example.com")

    log_in(page, "jack@example.com")
    expect(page.locator("#user-email")).to_have_text("jack@example.com")
    page.fill("#password-current", "not the password")
    page.fill("#password-new", "another long passphrase")
    page.click("#password-form button[type=submit]")
    expect(page.locator("#error")).to_contain_text("CHANGE_PASSWORD_INVALID_CURRENT")
    expect(page.locator("#password-current")).to_have_value("")
    expect(page.locator("#password-new")).to_have_value("")


def test_a_session_ended_elsewhere_says_so(new_page, elsewhere):
    page = new_page()
    # A first visit, with no cookie, says nothing about sessions ending.
    expect(page.locator("#status")).to_have_text("Not signed in.")
    register(page, "kate@example.com")
    log_in(page, "kate@example.com")
    expect(page.locator("#user-email")).to_have_text("kate@example.com")

    # Another device logs out everywhere; then the page acts (with its access token).
    other = elsewhere()
    assert other.post("/api/auth/logout-all", headers=api_login(other, "kate@example.com")).ok
    technical(page, "#reload")
    expect(page.locator("#signed-out")).to_be_visible()
    expect(page.locator("#message")).to_have_text(ENDED_ELSEWHERE)
    expect(page.locator("#status")).to_have_text("Not signed in.")
    expect(page.locator("#error")).to_be_hidden()
    look(page, "ended-elsewhere")

    # The user's own sign-out is not "ended elsewhere".
    log_in(page, "kate@example.com")
    expect(page.locator("#user-email")).to_have_text("kate@example.com")
    page.click("#logout")
    expect(page.locator("#status")).to_have_text("Logged out.")
    expect(page.locator("body")).not_to_contain_text("another device", use_inner_text=True)


def test_counts_read_one_session_and_two_sessions(page, elsewhere):
    register(page, "liam@example.com")
    log_in(page, "liam@example.com")
    expect(page.locator("#user-email")).to_have_text("liam@example.com")
    api_login(elsewhere(), "liam@example.com")

    page.fill("#password-current", PASSWORD)
    page.fill("#password-new", "another long passphrase")
    page.click("#password-form button[type=submit]")
    expect(page.locator("#message")).to_have_text(
        "Password changed. 1 other session was logged out."
    )

    for _ in range(2):
        api_login(elsewhere(), "liam@example.com", password="another long passphrase")
    page.fill("#password-current", "another long passphrase")
    page.fill("#password-new", "a third long passphrase")
    page.click("#password-form button[type=submit]")
    expect(page.locator("#message")).to_have_text(
        "Password changed. 2 other sessions were logged out."
    )

    page.click("#logout-all")
    page.click("#confirm-yes")
    expect(page.locator("#message")).to_contain_text("Revoked 1 session.")


def make_proof_stale(email: str) -> None:
    """As if the user had logged in an hour ago (past REAUTHENTICATION_MAX_AGE); the
    page's next refresh gets an access token that says so."""
    from datetime import timedelta

    from django.utils import timezone

    from tokens.models import RefreshToken

    an_hour_ago = timezone.now() - timedelta(hours=1)
    RefreshToken.objects.filter(user__email=email).update(authenticated_at=an_hour_ago)


def test_revoking_another_session_asks_for_the_password_then_goes_on(new_page):
    laptop = new_page()
    register(laptop, "ivan@example.com")
    log_in(laptop, "ivan@example.com")
    phone = new_page()
    log_in(phone, "ivan@example.com")
    expect(phone.locator("#user-email")).to_have_text("ivan@example.com")
    make_proof_stale("ivan@example.com")
    technical(laptop, "#refresh")
    expect(laptop.locator("#sessions li")).to_have_count(2)

    laptop.click("#sessions li:not(.current) button.revoke")
    laptop.click("#confirm-yes")
    dialog = laptop.locator("#reauth-dialog")
    expect(dialog).to_be_visible()
    laptop.fill("#reauth-password", "not the password")
    laptop.click("#reauth-form button[type=submit]")
    expect(laptop.locator("#reauth-error")).to_have_text("The password is not right.")
    expect(laptop.locator("#reauth-password")).to_have_value("")
    expect(dialog).to_be_visible()

    laptop.fill("#reauth-password", PASSWORD)
    laptop.click("#reauth-form button[type=submit]")
    expect(dialog).to_be_hidden()
    expect(laptop.locator("#message")).to_contain_text("was logged out.")
    expect(laptop.locator("#sessions li")).to_have_count(1)
    technical(phone, "#reload")
    expect(phone.locator("#message")).to_have_text(ENDED_ELSEWHERE)


def test_cancelling_the_password_prompt_changes_nothing(new_page):
    laptop = new_page()
    register(laptop, "judy@example.com")
    log_in(laptop, "judy@example.com")
    expect(laptop.locator("#user-email")).to_have_text("judy@example.com")
    make_proof_stale("judy@example.com")
    technical(laptop, "#refresh")
    expect(laptop.locator("#message")).to_have_text("Access token refreshed.")

    laptop.click("#logout-all")
    laptop.click("#confirm-yes")
    expect(laptop.locator("#reauth-dialog")).to_be_visible()
    laptop.click("#reauth-cancel")
    expect(laptop.locator("#reauth-dialog")).to_be_hidden()
    expect(laptop.locator("#error")).to_have_text(
        "Could not log out from all devices. For this, confirm it is you with your password. "
        "REAUTHENTICATION_REQUIRED"
    )
    expect(laptop.locator("#signed-in")).to_be_visible()

    # Confirming the second time logs out everywhere.
    laptop.click("#logout-all")
    laptop.click("#confirm-yes")
    laptop.fill("#reauth-password", PASSWORD)
    laptop.click("#reauth-form button[type=submit]")
    expect(laptop.locator("#status")).to_have_text("Logged out from all devices.")
