"""Query counts of this project's endpoints (health, change-password), counted like the
tokens app's (tokens/tests/test_queries.py)."""

import pytest
from rest_framework.test import APIClient

from tokens.tests.fixtures import PASSWORD
from tokens.tests.test_queries import (  # noqa: F401  (fixtures)
    _queue_in_the_database,
    data_queries,
    is_enqueue,
)

pytestmark = pytest.mark.django_db


def test_change_password_queries(api, user, login, bearer, data_queries):
    login(client=APIClient())
    headers = bearer(login())
    with data_queries() as statements:
        response = api.post(
            "/api/auth/change-password",
            {"current_password": PASSWORD, "new_password": "another fine passphrase"},
            format="json",
            **headers,
        )
        assert response.status_code == 200
    # auth; bind the caller's session to the new password; revoke the others; the
    # password update; its receiver's revoke of sessions of older passwords (none left);
    # once that commits, the password email's task
    assert len(statements) == 6, statements
    assert is_enqueue(statements[5])


def test_health_is_one_query(api, db, data_queries):
    with data_queries() as statements:
        assert api.get("/api/health").json() == {"status": "ok"}
    assert len(statements) == 1
