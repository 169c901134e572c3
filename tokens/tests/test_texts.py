"""Counts read right: "Revoked 1 session.", "Revoked 2 sessions."."""

import io

import pytest
from django.core.management import call_command

from tokens import texts

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "Revoked 0 sessions."), (1, "Revoked 1 session."), (2, "Revoked 2 sessions.")],
)
def test_revoked_counts(count, text):
    assert texts.revoked(count) == text


def test_logout_all_of_one_session_says_session(api, user, login, bearer):
    body = api.post("/api/auth/logout-all", **bearer(login())).json()
    assert body == {
        "message": "Successfully logged out from all devices. Revoked 1 session.",
        "revoked": 1,
    }


def test_the_command_says_session_for_one(user, login):
    login()
    out = io.StringIO()
    call_command("revoke_sessions", "--user", user.get_username(), stdout=out)
    assert out.getvalue().strip() == f"Revoked 1 session of {user.get_username()}."
