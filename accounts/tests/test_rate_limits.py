"""Rate limits of this project's account endpoints (register, change-password), with
the tokens app's counters (tokens/tests/test_ratelimit.py)."""

import pytest

from tokens.errors import RATE_LIMITED
from tokens.tests.test_ratelimit import (  # noqa: F401  (fixtures)
    _change_password,
    _contract_rates,
    _register,
    assert_limited_by,
    attempt,
    fresh_session,
    frozen,
)


@pytest.mark.django_db
def test_each_view_has_its_own_counter(api, user, login, frozen):
    for _ in range(5):
        attempt(api)
    assert attempt(api).status_code == 429
    payload = {"email": "new@example.com", "password": "a-long-enough-passphrase"}
    assert api.post("/api/auth/register", payload, format="json").status_code == 201


@pytest.mark.django_db
def test_change_password_is_limited_per_user_across_many_ips(api, user, make_user, frozen):
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
