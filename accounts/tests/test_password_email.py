"""The security email of a password changed through this project's change-password."""

import pytest

from tokens.tests.fixtures import PASSWORD
from tokens.tests.test_notifications import (  # noqa: F401  (fixtures)
    FIREFOX,
    SESSIONS_URL,
    _sessions_url,
    committed,
    person,
    sign_in,
)

pytestmark = pytest.mark.django_db


def test_a_password_change_through_the_api_is_emailed(
    person, sign_in, bearer, mailoutbox, committed
):
    response = sign_in(FIREFOX)
    mailoutbox.clear()
    with committed():
        answer = response.client.post(
            "/api/auth/change-password",
            {"current_password": PASSWORD, "new_password": "another fine passphrase"},
            format="json",
            **bearer(response),
        )
    assert answer.status_code == 200
    [message] = mailoutbox
    assert message.subject == "The password of your account was changed"
    assert SESSIONS_URL in message.body
