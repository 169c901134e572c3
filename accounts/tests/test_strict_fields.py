"""Register and change-password take strings, not numbers that DRF would turn into them."""

import pytest

from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body,field",
    [
        ({"email": "carol@example.com", "password": 73519284613}, "password"),
        ({"email": "carol@example.com", "password": ["a long passphrase"]}, "password"),
        ({"email": 42, "password": "a long enough passphrase"}, "email"),
    ],
)
def test_register_refuses_non_strings(api, body, field):
    response = api.post("/api/auth/register", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert response.json()[field] == ["Not a valid string."]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"current_password": 1234, "new_password": "a longer passphrase"}, "current_password"),
        ({"current_password": PASSWORD, "new_password": 73519284613907}, "new_password"),
    ],
)
def test_change_password_refuses_non_strings(api, user, login, bearer, body, field):
    response = api.post("/api/auth/change-password", body, format="json", **bearer(login()))
    assert response.status_code == 400
    assert response.json()[field] == ["Not a valid string."]
