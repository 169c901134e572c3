"""A refresh cookie planted on a longer path, in real Chromium: the browser sends it
before ours, the refresh refuses both (never the attacker's account), deletes the
planted one, keeps ours, and the next refresh is the victim's own session again."""

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under REQUIRE_BROWSER=1
    expect = None

from tokens import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "a long enough passphrase"

REFRESH = """async () => {
    const refreshed = await fetch("/api/auth/refresh", {method: "POST"});
    return {status: refreshed.status, body: await refreshed.json()};
}"""


def refresh_cookies(page) -> dict[str, str]:
    """The browser's refresh cookies, by path."""
    return {c["path"]: c["value"] for c in page.context.cookies() if c["name"] == "refresh_token"}


def test_a_planted_cookie_never_signs_the_victim_into_another_account(new_page, make_user):
    mallory = make_user("mallory@example.com", PASSWORD)
    planted = services.start_session(mallory).refresh_token
    make_user("alice@example.com", PASSWORD)
    page = new_page()
    page.fill("#login-email", "alice@example.com")
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#user-email")).to_have_text("alice@example.com")
    ours = refresh_cookies(page)["/api/auth"]

    # What a sibling subdomain or a script on a forgotten page of the host can do.
    host = page.evaluate("location.hostname")
    page.context.add_cookies(
        [{"name": "refresh_token", "value": planted, "domain": host, "path": "/api/auth/refresh"}]
    )
    assert refresh_cookies(page) == {"/api/auth": ours, "/api/auth/refresh": planted}

    refused = page.evaluate(REFRESH)
    assert refused == {"status": 401, "body": {"detail": "REFRESH_TOKEN_INVALID"}}
    assert refresh_cookies(page) == {"/api/auth": ours}  # theirs deleted, ours kept

    # The page's own refresh (the session is bound to the page's DPoP key, which signs
    # its proofs: a bare fetch could not refresh it).
    with page.expect_response("**/api/auth/refresh") as again:
        page.reload()
    assert again.value.status == 200
    expect(page.locator("#user-email")).to_have_text("alice@example.com")
