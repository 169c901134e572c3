"""Change-password (this project's endpoint) and the tokens app's sessions."""

import pytest
from rest_framework.test import APIClient

from tokens.tests.fixtures import PASSWORD
from tokens.tests.test_password_binding import NEW

pytestmark = pytest.mark.django_db


def test_change_password_through_the_api_keeps_the_callers_session(api, user, login, bearer):
    other = APIClient()
    other_headers = bearer(login(client=other))
    current = login()
    response = api.post(
        "/api/auth/change-password",
        {"current_password": PASSWORD, "new_password": NEW},
        format="json",
        **bearer(current),
    )
    assert response.json()["revoked"] == 1
    assert api.get("/api/users/me", **bearer(current)).status_code == 200
    assert api.post("/api/auth/refresh").status_code == 200
    assert other.get("/api/users/me", **other_headers).status_code == 401
