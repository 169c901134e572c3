"""The sessions admin searched by this project's email logins (stored lower-cased)."""

import pytest

from tokens.tests.test_admin import CHANGELIST, sessions, shown  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


# the project's users store emails lower-cased
def test_search_by_email_is_exact_and_case_insensitive(admin_client, sessions):
    response = admin_client.get(CHANGELIST, {"q": "  BOB@Example.com "})
    assert set(shown(response)) == {s.id for s in sessions["bob"]}
    assert shown(admin_client.get(CHANGELIST, {"q": "bob@"})) == []
