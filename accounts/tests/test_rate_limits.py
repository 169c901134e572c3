"""Rate limits of this project's account endpoints (register, change-password), with
the tokens app's counters (tokens/tests/test_ratelimit.py)."""

import pytest
from rest_framework.test import APIClient

from tokens.errors import RATE_LIMITED
from tokens.tests.fixtures import PASSWORD
from tokens.tests.test_ratelimit import (
    _change_password,
    _register,
    assert_limited_by,
    attempt,
    fresh_session,
)

pytestmark = pytest.mark.usefixtures("contract_rates")


@pytest.mark.django_db
def test_each_view_has_its_own_counter(api, user, login, frozen):
    for _ in range(5):
        attempt(api)
    assert attempt(api).status_code == 429
    payload = {"email": "new@example.com", "password": "a-long-enough-passphrase"}
    assert api.post("/api/auth/register", payload, format="json").status_code == 201


@pytest.mark.django_db
def test_change_password_is_limited_per_session_across_many_ips(api, user, make_user, frozen):
    # A stolen access token, guesses of the current password spread over addresses.
    headers = fresh_session(api, user)
    for n in range(5):
        response = _change_password(api, {**headers, "REMOTE_ADDR": f"198.51.100.{n}"})
        assert response.status_code == 400
    refused = _change_password(api, {**headers, "REMOTE_ADDR": "203.0.113.99"})
    assert refused.status_code == 429
    assert refused.json() == {"detail": RATE_LIMITED}
    # Another user from a fresh address is unaffected.
    other = fresh_session(api, make_user(email="bob@example.com"))
    assert _change_password(api, {**other, "REMOTE_ADDR": "203.0.113.98"}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("call", [_change_password, _register])
def test_change_password_and_register_are_limited_by_the_login_rate(
    api, user, settings, frozen, call
):
    assert_limited_by("RATE_LIMIT_LOGIN", call, api, user, settings)


@pytest.mark.django_db
def test_the_owner_changes_the_password_while_strangers_spend_the_accounts_budget(
    api, user, frozen
):
    # The takeover: strangers fail logins naming the owner from many addresses; the
    # owner's live session still proves its password and changes it.
    headers = fresh_session(api, user)
    for n in range(10):
        attempt(api, email=user.get_username(), REMOTE_ADDR=f"198.51.100.{n}")
    assert attempt(api, password=PASSWORD, REMOTE_ADDR="203.0.113.1").status_code == 429
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase 2030"}
    changed = api.post("/api/auth/change-password", body, format="json", **headers)
    assert changed.status_code == 200


@pytest.mark.django_db
def test_change_password_and_reauthenticate_share_one_budget_per_session(api, user, frozen):
    # A thief's one session gets one budget of guesses, not one per door; another
    # session of the same account (the owner's) keeps its own.
    thief = fresh_session(api, user)
    for n in range(3):
        assert _change_password(api, {**thief, "REMOTE_ADDR": f"198.51.100.{n}"}).status_code == 400
    for _ in range(2):
        guess = api.post("/api/auth/reauthenticate", {"password": "guess"}, format="json", **thief)
        assert guess.status_code == 400
    refused = api.post("/api/auth/reauthenticate", {"password": PASSWORD}, format="json", **thief)
    assert refused.status_code == 429
    owner = fresh_session(api, user)
    renewed = api.post("/api/auth/reauthenticate", {"password": PASSWORD}, format="json", **owner)
    assert renewed.status_code == 200


@pytest.mark.django_db
def test_the_owners_browser_stays_a_known_device_after_changing_the_password(user, frozen):
    # The way back from a takeover ends with a new password, which voids every device
    # cookie: the owner's own browser must not become an unknown client that strangers,
    # the thief among them, can lock out of login.
    owner = APIClient(REMOTE_ADDR="192.0.2.1")
    signed_in = attempt(owner, password=PASSWORD)
    assert signed_in.status_code == 200
    new_password = "a brand new passphrase 2030"
    body = {"current_password": PASSWORD, "new_password": new_password}
    bearer = f"Bearer {signed_in.json()['access_token']}"
    changed = owner.post(
        "/api/auth/change-password", body, format="json", HTTP_AUTHORIZATION=bearer
    )
    assert changed.status_code == 200
    assert owner.post("/api/auth/logout", HTTP_AUTHORIZATION=bearer).status_code == 200
    for n in range(5):
        assert attempt(APIClient(REMOTE_ADDR=f"198.51.100.{n}")).status_code == 400
    assert attempt(APIClient(REMOTE_ADDR="203.0.113.1"), password=new_password).status_code == 429
    assert attempt(owner, password=new_password).status_code == 200
