"""Limits that stop guessing without handing strangers a lockout (contract, "Rate limits").

The account's budget counts only failed password checks; a client that signed in to the
account before (a device cookie, tokens.known_devices) guesses on its own budget; a live
session proves its password again on its own budget. These run in-process against the
view stack; tokens/tests/test_lockout_live.py tells the takeover story against two
gunicorn workers sharing Redis.
"""

import datetime as dt

import pytest
from django.test import override_settings
from rest_framework.authentication import SessionAuthentication
from rest_framework.test import APIClient

from tokens.authentication import SessionJWTAuthentication
from tokens.errors import RATE_LIMITED
from tokens.tests.fixtures import PASSWORD
from tokens.views import ReauthenticateView

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("contract_rates")]

LOGIN = "/api/auth/login"
VICTIM = "alice@example.com"
DEVICE_COOKIE = "known_device"


def client_at(ip: str) -> APIClient:
    """A client of its own (its own cookies) at address ``ip``."""
    return APIClient(REMOTE_ADDR=ip)


def login(client: APIClient, body: dict):
    return client.post(LOGIN, body, format="json")


def fail(client: APIClient, email: str = VICTIM):
    return login(client, {"email": email, "password": "wrong guess"})


def succeed(client: APIClient, email: str = VICTIM):
    return login(client, {"email": email, "password": PASSWORD})


def strangers_exhaust_the_account(email: str = VICTIM) -> None:
    """Five failed guesses from five addresses: the account's budget for unknown clients."""
    for n in range(5):
        assert fail(client_at(f"198.51.100.{n}"), email).status_code == 400
    assert succeed(client_at("198.51.100.99"), email).status_code == 429


def bearer(response) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}


# --- The account's budget counts failed password checks, and nothing else ---------------


def test_requests_the_ip_limit_refused_spend_nothing_of_the_account(user, frozen):
    attacker = client_at("203.0.113.7")
    for _ in range(5):
        assert fail(attacker, "someone-else@example.com").status_code == 400
    # The attacker's address is over its own limit: 120 password-less logins naming
    # the victim are all refused, and none of them spends the victim's budget.
    for _ in range(120):
        assert login(attacker, {"email": VICTIM}).status_code == 429
        assert fail(attacker).status_code == 429
    assert succeed(client_at("192.0.2.10")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"email": VICTIM},
        {"email": VICTIM, "password": 42},
        {"email": VICTIM, "password": ["wrong"]},
        {"email": VICTIM, "password": "x" * 5000},
    ],
    ids=["no password", "a number", "a list", "too long"],
)
def test_bodies_that_fail_validation_spend_nothing(user, frozen, body):
    for n in range(20):
        assert login(client_at(f"198.51.100.{n}"), body).status_code == 400
    assert succeed(client_at("192.0.2.10")).status_code == 200


def test_successful_logins_spend_nothing(user, frozen):
    for n in range(12):
        assert succeed(client_at(f"198.51.100.{n}")).status_code == 200
    # The whole budget of failures is still there for unknown clients.
    for n in range(5):
        assert fail(client_at(f"192.0.2.{n}")).status_code == 400
    assert fail(client_at("192.0.2.99")).status_code == 429


def test_unknown_clients_are_limited_to_five_failures_a_minute_from_any_addresses(user, frozen):
    strangers_exhaust_the_account()
    refused = fail(client_at("203.0.113.50"))
    assert refused.status_code == 429
    assert refused.json() == {"detail": RATE_LIMITED}
    frozen.shift(int(refused["Retry-After"]))
    assert succeed(client_at("203.0.113.51")).status_code == 200


def test_another_account_is_not_spent(make_user, user, frozen):
    make_user("bob@example.com")
    strangers_exhaust_the_account()
    assert succeed(client_at("192.0.2.10"), "bob@example.com").status_code == 200


# --- Known devices -----------------------------------------------------------------------


def test_a_login_gives_the_client_a_device_cookie(user, frozen, settings):
    settings.TOKENS = {**settings.TOKENS, "REFRESH_TOKEN_COOKIE_SECURE": True}
    response = succeed(client_at("192.0.2.10"))
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["path"] == "/"  # the API's login and the admin's login form
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 365 * 24 * 3600
    # Nothing usable in it: the user's id, a random device id and a MAC.
    assert PASSWORD not in cookie.value
    assert user.password not in cookie.value


def test_a_failed_login_gives_no_device_cookie(user, frozen):
    assert DEVICE_COOKIE not in fail(client_at("192.0.2.10")).cookies


def test_a_known_device_is_never_locked_out_by_failures_from_elsewhere(user, frozen):
    owner = client_at("192.0.2.10")
    assert succeed(owner).status_code == 200
    strangers_exhaust_the_account()
    # The owner's browser signs in again, from another address even (a new network).
    owner.defaults["REMOTE_ADDR"] = "192.0.2.77"
    assert succeed(owner).status_code == 200
    # ... and may mistype its password: its own budget, not the exhausted one.
    assert fail(owner).status_code == 400
    assert succeed(owner).status_code == 200


def test_a_known_device_keeps_its_cookie_across_logout(user, frozen):
    owner = client_at("192.0.2.10")
    assert succeed(owner).status_code == 200
    logout = owner.post("/api/auth/logout")
    assert logout.status_code == 200
    assert DEVICE_COOKIE not in logout.cookies  # neither set nor deleted
    strangers_exhaust_the_account()
    assert succeed(owner).status_code == 200


def test_a_known_device_guesses_on_its_own_budget(user, frozen):
    device = client_at("192.0.2.10")
    assert succeed(device).status_code == 200
    for n in range(5):
        device.defaults["REMOTE_ADDR"] = f"192.0.2.{20 + n}"
        assert fail(device).status_code == 400
    # Its failures spent its own budget, not the one unknown clients share.
    assert succeed(client_at("198.51.100.1")).status_code == 200
    strangers_exhaust_the_account()
    # A device over its own budget is an unknown client (OWASP): both are spent now.
    device.defaults["REMOTE_ADDR"] = "192.0.2.30"
    assert succeed(device).status_code == 429


def test_a_device_cookie_of_another_account_counts_as_unknown(make_user, user, frozen):
    # The attacker signs in to an account of their own: that cookie names it, not the victim.
    make_user("mallory@example.com")
    attacker = client_at("203.0.113.7")
    assert succeed(attacker, "mallory@example.com").status_code == 200
    strangers_exhaust_the_account()
    attacker.defaults["REMOTE_ADDR"] = "203.0.113.8"
    assert fail(attacker).status_code == 429


@pytest.mark.parametrize(
    "tamper",
    [
        lambda value: value[:-1] + ("A" if value[-1] != "A" else "B"),  # the MAC
        lambda value: "x" + value,  # the payload
        lambda value: "",
        lambda value: "garbage:with:colons",
    ],
    ids=["mac", "payload", "empty", "garbage"],
)
def test_a_forged_device_cookie_counts_as_unknown(user, frozen, tamper):
    owner = client_at("192.0.2.10")
    genuine = succeed(owner).cookies[DEVICE_COOKIE].value
    strangers_exhaust_the_account()
    forger = client_at("203.0.113.7")
    forger.cookies[DEVICE_COOKIE] = tamper(genuine)
    assert succeed(forger).status_code == 429


def test_a_device_cookie_signed_with_another_secret_key_counts_as_unknown(user, frozen):
    other = client_at("192.0.2.10")
    with override_settings(SECRET_KEY="another-key-" + "x" * 50):
        other_secret_cookie = succeed(other).cookies[DEVICE_COOKIE].value
    strangers_exhaust_the_account()
    forger = client_at("203.0.113.7")
    forger.cookies[DEVICE_COOKIE] = other_secret_cookie
    assert succeed(forger).status_code == 429


def test_a_stolen_device_cookie_buys_one_devices_budget_and_no_more(user, frozen):
    owner = client_at("192.0.2.10")
    stolen = succeed(owner).cookies[DEVICE_COOKIE].value
    thief = client_at("203.0.113.7")
    thief.cookies[DEVICE_COOKIE] = stolen
    statuses = []
    for n in range(12):
        thief.defaults["REMOTE_ADDR"] = f"203.0.113.{10 + n}"
        statuses.append(fail(thief).status_code)
    # The device's five, then the five every unknown client shares, then nothing.
    assert statuses == [400] * 10 + [429] * 2


def test_a_password_change_voids_every_device_cookie(user, frozen):
    thief = client_at("203.0.113.7")
    assert succeed(thief).status_code == 200  # the thief knew the password
    user.set_password("a brand new passphrase 2030")
    user.save()
    strangers_exhaust_the_account()
    thief.defaults["REMOTE_ADDR"] = "203.0.113.8"
    assert fail(thief).status_code == 429


def test_an_expired_device_cookie_counts_as_unknown(user, frozen):
    owner = client_at("192.0.2.10")
    assert succeed(owner).status_code == 200
    frozen.shift(dt.timedelta(days=366))
    strangers_exhaust_the_account()
    assert succeed(owner).status_code == 429


def test_many_device_cookies_from_one_address_stay_within_the_address_limit(
    make_user, user, frozen
):
    # Cookies of other accounts, and even several genuine ones: the address's own
    # limit still counts every attempt.
    cookies = []
    for n in range(3):
        device = client_at(f"192.0.2.{n}")
        assert succeed(device).status_code == 200
        cookies.append(device.cookies[DEVICE_COOKIE].value)
    attempts = []
    for n in range(10):
        attacker = client_at("203.0.113.7")
        attacker.cookies[DEVICE_COOKIE] = cookies[n % 3]
        attempts.append(fail(attacker).status_code)
    assert attempts == [400] * 5 + [429] * 5


# --- A live session proves its password again on its own budget --------------------------


def test_a_live_session_reauthenticates_while_strangers_hammer_the_account(user, frozen):
    session = bearer(succeed(client_at("192.0.2.10")))
    strangers_exhaust_the_account()
    owner = client_at("192.0.2.11")
    reauth = owner.post("/api/auth/reauthenticate", {"password": PASSWORD}, **session)
    assert reauth.status_code == 200


def test_one_sessions_guesses_do_not_spend_anothers(user, frozen):
    owner = bearer(succeed(client_at("192.0.2.10")))
    thief = bearer(succeed(client_at("203.0.113.7")))
    for n in range(5):
        guess = client_at(f"203.0.113.{20 + n}").post(
            "/api/auth/reauthenticate", {"password": "guess"}, **thief
        )
        assert guess.status_code == 400
    refused = client_at("203.0.113.30").post(
        "/api/auth/reauthenticate", {"password": PASSWORD}, **thief
    )
    assert refused.status_code == 429
    reauth = client_at("192.0.2.11").post(
        "/api/auth/reauthenticate", {"password": PASSWORD}, **owner
    )
    assert reauth.status_code == 200
    # Login's budget is not a session's either.
    assert succeed(client_at("198.51.100.1")).status_code == 200


def test_a_caller_authenticated_without_a_session_still_has_a_budget(user, frozen, monkeypatch):
    # A project that also lets DRF's SessionAuthentication in (Django's login cookie):
    # such a caller has no session id to count by, and must not guess from many
    # addresses on the IP limit alone.
    monkeypatch.setattr(
        ReauthenticateView,
        "authentication_classes",
        [SessionJWTAuthentication, SessionAuthentication],
    )
    thief = client_at("203.0.113.7")
    thief.force_login(user)
    for n in range(5):
        guess = thief.post(
            "/api/auth/reauthenticate", {"password": "guess"}, REMOTE_ADDR=f"203.0.113.{20 + n}"
        )
        assert guess.status_code == 400
    refused = thief.post(
        "/api/auth/reauthenticate", {"password": "guess"}, REMOTE_ADDR="203.0.113.30"
    )
    assert refused.status_code == 429
