"""The page's DPoP key in real Chromium: a non-extractable ES256 key in IndexedDB signs
a proof for every call, survives reloads, and the tokens copied out of the browser are
worth nothing in another client."""

from datetime import timedelta

import pytest
import requests

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under REQUIRE_BROWSER=1
    expect = None

from tokens import dpop
from tokens.models import RefreshToken, RevokeReason
from tokens.tests.dpop_keys import DpopKey
from web.tests.test_browser import log_in, register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]


# What IndexedDB holds: the key pair, as the page stored it.
STORED_KEY = """() => new Promise((resolve, reject) => {
    const opening = indexedDB.open("authsite-dpop", 1);
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
        const request = opening.result.transaction("keys").objectStore("keys").get("session-key");
        request.onsuccess = async () => {
            const pair = request.result;
            let exported = null;
            try { await crypto.subtle.exportKey("jwk", pair.privateKey); exported = true; }
            catch (error) { exported = error.name; }
            resolve({
                algorithm: pair.privateKey.algorithm,
                extractable: pair.privateKey.extractable,
                exported,
                jwk: await crypto.subtle.exportKey("jwk", pair.publicKey),
            });
        };
    };
})"""


def sign_in(page, email: str) -> dict:
    """Register and log in through the page; the login's JSON answer."""
    register(page, email)
    with page.expect_response(lambda r: r.url.endswith("/api/auth/login") and r.ok) as login:
        log_in(page, email)
    expect(page.locator("#user-email")).to_have_text(email)
    return login.value.json()


def test_the_page_binds_its_session_to_a_key_it_cannot_give_away(new_page, live_server):
    page = new_page()
    requests_seen = []
    page.on("request", lambda r: requests_seen.append(r) if "/api/" in r.url else None)
    body = sign_in(page, "alice@example.com")
    assert body["token_type"] == "DPoP"

    stored = page.evaluate(STORED_KEY)
    assert stored["algorithm"] == {"name": "ECDSA", "namedCurve": "P-256"}
    assert stored["extractable"] is False
    assert stored["exported"] == "InvalidAccessError"  # not even the page can read it
    key_jkt = dpop.thumbprint(stored["jwk"])
    assert RefreshToken.objects.get().dpop_jkt == key_jkt
    # every call carried a proof, and the authenticated ones the DPoP scheme
    assert all(r.headers.get("dpop") for r in requests_seen)
    me = [r for r in requests_seen if r.url.endswith("/api/users/me")]
    assert me and all(r.headers["authorization"].startswith("DPoP ") for r in me)

    # Reloads: the access token is gone with the page, the key is not.
    for _ in range(2):
        with page.expect_response("**/api/auth/refresh") as refreshed:
            page.reload()
        expect(page.locator("#user-email")).to_have_text("alice@example.com")
        assert refreshed.value.status == 200
    access_token = refreshed.value.json()["access_token"]
    assert page.evaluate(STORED_KEY)["jwk"] == stored["jwk"]

    # The cookie and the access token, copied into another client.
    [cookie] = [c for c in page.context.cookies() if c["name"] == "refresh_token"]
    thief = requests.Session()
    thief.cookies.set("refresh_token", cookie["value"])
    refresh_url = f"{live_server.url}/api/auth/refresh"
    response = thief.post(refresh_url, timeout=30)
    assert (response.status_code, response.json()) == (401, {"detail": "DPOP_PROOF_REQUIRED"})
    me_url = f"{live_server.url}/api/users/me"
    response = thief.get(me_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=30)
    assert (response.status_code, response.json()) == (401, {"detail": "DPOP_PROOF_REQUIRED"})
    own = DpopKey()
    response = thief.get(me_url, headers=own.api_headers("GET", me_url, access_token), timeout=30)
    assert (response.status_code, response.json()) == (401, {"detail": "DPOP_KEY_MISMATCH"})

    # The page still works: nothing the thief did without the key cost the owner anything.
    page.reload()
    expect(page.locator("#user-email")).to_have_text("alice@example.com")

    # The cookie with the thief's own key is a theft: the session ends everywhere.
    [cookie] = [c for c in page.context.cookies() if c["name"] == "refresh_token"]
    thief.cookies.set("refresh_token", cookie["value"])
    response = thief.post(refresh_url, headers={"DPoP": own.proof("POST", refresh_url)}, timeout=30)
    assert (response.status_code, response.json()) == (401, {"detail": "REFRESH_TOKEN_INVALID"})
    assert RefreshToken.objects.get().revoke_reason == RevokeReason.DPOP_KEY
    page.reload()
    expect(page.locator("#status")).to_have_text("Not signed in.")


def test_a_device_whose_clock_is_wrong_still_signs_in(new_page):
    """A proof's iat must be within a minute of the server's clock; a laptop ten minutes
    off would be refused every proof. The page takes the server's time from each
    answer's Date header and signs again once when a proof was refused as expired."""
    page = new_page()
    page.context.add_init_script("Date.now = ((now) => () => now() + 10 * 60 * 1000)(Date.now);")
    page.reload()
    body = sign_in(page, "bob@example.com")
    assert body["token_type"] == "DPoP"
    refreshes = []
    page.on("response", lambda r: refreshes.append(r.status) if "/refresh" in r.url else None)
    page.reload()  # a new page: its first proof is ten minutes off again
    expect(page.locator("#user-email")).to_have_text("bob@example.com")
    assert refreshes == [401, 200]


def test_the_page_signs_with_the_servers_nonce_when_asked(new_page, settings):
    """With DPOP_NONCE_LIFETIME set, the first proof is refused with the nonce to use
    (use_dpop_nonce); the page signs again with it, and keeps it for the next calls."""
    settings.TOKENS = {**settings.TOKENS, "DPOP_NONCE_LIFETIME": timedelta(minutes=5)}
    page = new_page()
    refused = []

    def asked_for_a_nonce(response) -> None:
        if "use_dpop_nonce" in (response.headers.get("www-authenticate") or ""):
            refused.append(response.url)

    page.on("response", asked_for_a_nonce)
    body = sign_in(page, "carol@example.com")
    assert body["token_type"] == "DPoP"
    page.reload()
    expect(page.locator("#user-email")).to_have_text("carol@example.com")
    # Asked once per page load (the nonce lives in the page's memory): the login's first
    # proof, then the refresh that restores the session after the reload.
    assert [url.rsplit("/", 1)[1] for url in refused] == ["login", "refresh"]
