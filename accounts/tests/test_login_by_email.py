"""Login by this project's email addresses (the tokens app logs in by USERNAME_FIELD)."""

import pytest

pytestmark = pytest.mark.django_db


def test_email_is_case_insensitive(api, user, login):
    login(email="Alice@EXAMPLE.com")
