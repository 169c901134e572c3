"""Change-password (this project's endpoint) renews the password proof of step-up and
shares the password-guess budget with reauthenticate."""

import pytest

from tokens.tests.fixtures import PASSWORD
from tokens.tests.test_step_up import (  # noqa: F401  (a fixture)
    STALE,
    T0,
    auth,
    claims,
    clock,
    reauthenticate,
)

pytestmark = pytest.mark.django_db


# change-password is this project's endpoint (accounts)
def test_change_password_renews_the_proof(api, user, login, clock):
    token = login().json()["access_token"]
    clock.shift(STALE)
    response = api.post(
        "/api/auth/change-password",
        {"current_password": PASSWORD, "new_password": "another long passphrase"},
        format="json",
        **auth(token),
    )
    assert response.status_code == 200
    refreshed = api.post("/api/auth/refresh")
    assert claims(refreshed)["auth_time"] == int((T0 + STALE).timestamp())


# change-password is this project's endpoint (accounts)
def test_reauthenticate_shares_its_budget_with_change_password(api, user, login, settings):
    token = login().json()["access_token"]
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_LOGIN": "3/m"}
    for _ in range(3):
        wrong = {"current_password": "wrong", "new_password": "another long passphrase"}
        api.post("/api/auth/change-password", wrong, format="json", **auth(token))
    response = reauthenticate(api, token)
    assert response.status_code == 429
    assert response.json() == {"detail": "RATE_LIMITED"}
