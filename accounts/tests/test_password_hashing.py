"""Argon2 first, PBKDF2 still verifying, and no account enumeration by hashing work."""

import collections

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    MD5PasswordHasher,
    PBKDF2PasswordHasher,
)
from django.db import connection

from accounts.models import User
from tokens.errors import LOGIN_BAD_CREDENTIALS
from tokens.tests.fixtures import PASSWORD

PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]


@pytest.fixture
def hasher_calls(settings, monkeypatch):
    """The project's real hashers, with every encode and verify counted."""
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    calls: collections.Counter = collections.Counter()
    for hasher in (Argon2PasswordHasher, PBKDF2PasswordHasher):
        for method in ("encode", "verify"):
            original = getattr(hasher, method)

            def counted(self, *args, _original=original, _name=f"{hasher.algorithm}", **kwargs):
                calls[_name] += 1
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(hasher, method, counted)
    return calls


def test_the_project_hashes_with_argon2_and_still_verifies_pbkdf2():
    # conftest swaps in MD5 for speed; this is the setting it replaces.
    from authsite import settings as project_settings

    assert project_settings.PASSWORD_HASHERS == PRODUCTION_HASHERS


@pytest.mark.django_db
def test_unknown_email_wrong_password_and_inactive_user_cost_the_same_hashing(
    api, hasher_calls, make_user
):
    make_user(email="alice@example.com")
    make_user(email="inactive@example.com", is_active=False)
    attempts = {
        "unknown email": ("nobody@example.com", PASSWORD),
        "wrong password": ("alice@example.com", "not the password"),
        "inactive, right password": ("inactive@example.com", PASSWORD),
        "inactive, wrong password": ("inactive@example.com", "not the password"),
    }
    work = {}
    for label, (email, password) in attempts.items():
        hasher_calls.clear()
        response = api.post(
            "/api/auth/login", {"email": email, "password": password}, format="json"
        )
        assert response.status_code == 400, label
        assert response.json() == {"detail": LOGIN_BAD_CREDENTIALS}, label
        work[label] = dict(hasher_calls)

    # Exactly one Argon2 computation each, whatever the reason for the refusal.
    assert set(map(str, work.values())) == {str({"argon2": 1})}, work


@pytest.mark.django_db
def test_an_old_pbkdf2_hash_still_logs_in_and_is_upgraded_to_argon2(api, hasher_calls, make_user):
    user = make_user()
    # A hash from before Argon2 (few iterations, to keep the test fast).
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "oldsalt", iterations=1000)
    user.save(update_fields=["password"])

    response = api.post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    user = User.objects.get(pk=user.pk)
    assert user.password.startswith("argon2$")
    assert user.check_password(PASSWORD)


class TransactionRecordingHasher(MD5PasswordHasher):
    """A cheap hasher that records whether each hashing ran inside a transaction."""

    algorithm = "transaction_recording_md5"
    inside_transaction: list[bool] = []

    def encode(self, password, salt):
        TransactionRecordingHasher.inside_transaction.append(connection.in_atomic_block)
        return super().encode(password, salt)


@pytest.mark.django_db(transaction=True)
def test_no_password_is_hashed_inside_a_transaction(settings, api):
    """On SQLite a transaction holds the database-wide write lock (BEGIN IMMEDIATE):
    Argon2's quarter second there would queue every login and refresh behind it."""
    settings.PASSWORD_HASHERS = [
        f"{TransactionRecordingHasher.__module__}.{TransactionRecordingHasher.__qualname__}"
    ]
    TransactionRecordingHasher.inside_transaction = []
    body = {"email": "carol@example.com", "password": PASSWORD}
    assert api.post("/api/auth/register", body, format="json").status_code == 201
    login = api.post("/api/auth/login", body, format="json")
    assert login.status_code == 200
    response = api.post(
        "/api/auth/change-password",
        {"current_password": PASSWORD, "new_password": "another fine passphrase"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {login.json()['access_token']}",
    )
    assert response.status_code == 200
    # register, login's check, change-password's check and its new hash
    assert TransactionRecordingHasher.inside_transaction == [False] * 4
