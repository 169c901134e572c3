"""A session is bound to the password it was opened with, whatever path changes it.

Django's own sessions keep ``get_session_auth_hash()`` and compare it on every use; ours
keep a MAC of the password hash and compare it inside the query each use already runs.
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from tokens.models import RefreshToken, RevokeReason
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "an entirely new passphrase 7"


@pytest.fixture
def other_device(login, bearer):
    """A session opened before the change: its client (cookie) and bearer headers."""
    client = APIClient()
    return client, bearer(login(client=client))


def assert_ended_by_password_change(client, headers):
    assert client.get("/api/users/me", **headers).status_code == 401
    assert client.post("/api/auth/refresh").status_code == 401
    session = RefreshToken.objects.get()
    assert session.revoked_at is not None
    assert session.revoke_reason == RevokeReason.PASSWORD_CHANGE


def test_set_password_and_save_in_a_shell_ends_sessions(user, other_device):
    client, headers = other_device
    user = get_user_model().objects.get(pk=user.pk)
    user.set_password(NEW)
    user.save()
    # Marked at the save, before any use: the admin and the list show it at once.
    assert RefreshToken.objects.get().revoke_reason == RevokeReason.PASSWORD_CHANGE
    assert_ended_by_password_change(client, headers)


def test_save_with_update_fields_password_ends_sessions(user, other_device):
    client, headers = other_device
    user.set_password(NEW)
    user.save(update_fields=["password"])
    assert_ended_by_password_change(client, headers)


def test_changepassword_command_ends_sessions(user, other_device, monkeypatch):
    client, headers = other_device
    # The command reads the new password twice from a terminal; none exists here.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW)
    call_command("changepassword", user.get_username(), stdout=io.StringIO())
    assert_ended_by_password_change(client, headers)


def test_admin_password_form_ends_sessions(user, make_user, other_device):
    client, headers = other_device
    make_user(email="admin@example.com", is_staff=True, is_superuser=True)
    admin = APIClient()
    assert admin.login(username="admin@example.com", password=PASSWORD)
    # Django's UserAdmin names this URL auth_user_password_change for any user model.
    response = admin.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW, "password2": NEW, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert_ended_by_password_change(client, headers)


def test_a_password_written_around_save_still_ends_sessions_at_once(user, other_device):
    """QuerySet.update() or raw SQL sends no signal: the binding check alone ends the
    session, and the first refresh records why."""
    from django.contrib.auth.hashers import make_password

    client, headers = other_device
    get_user_model().objects.filter(pk=user.pk).update(password=make_password(NEW))
    assert client.get("/api/users/me", **headers).status_code == 401
    assert client.get("/api/auth/sessions", **headers).status_code == 401
    assert client.post("/api/auth/refresh").status_code == 401
    assert RefreshToken.objects.get().revoke_reason == RevokeReason.PASSWORD_CHANGE


def test_saving_a_user_without_changing_the_password_ends_nothing(user, other_device):
    client, headers = other_device
    user = get_user_model().objects.get(pk=user.pk)
    user.is_staff = True
    user.save()
    assert client.get("/api/users/me", **headers).status_code == 200
    assert client.post("/api/auth/refresh").status_code == 200


def test_a_login_that_checked_the_old_password_writes_no_session(user):
    """The race, serialized: login checked the old password, then the change committed,
    then the login came to write its session. The password it checked is gone: no
    session, and the login is refused as a wrong password would be."""
    from tokens import services
    from tokens.errors import BadCredentials

    stale = get_user_model().objects.get(pk=user.pk)  # what authenticate() returned
    user.set_password(NEW)
    user.save()
    with pytest.raises(BadCredentials):
        services.start_session(stale)
    assert not RefreshToken.objects.exists()


def test_the_session_list_never_shows_a_session_of_an_old_password(user, login, bearer):
    """A password written around save() leaves the rows unmarked until their first use;
    the list leaves them out all the same."""
    from django.contrib.auth.hashers import make_password

    from tokens import services

    old = APIClient()
    login(client=old)
    get_user_model().objects.filter(pk=user.pk).update(password=make_password(NEW))
    user.refresh_from_db()
    current = services.start_session(user)
    api = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {current.access_token}"}
    listed = api.get("/api/auth/sessions", **headers).json()
    assert [s["id"] for s in listed] == [str(current.session.id)]


def test_the_audit_log_records_the_password_change(user, other_device, caplog):
    caplog.set_level("INFO", logger="security")
    user.set_password(NEW)
    user.save()
    lines = [r for r in caplog.records if getattr(r, "event", None) == "session_revoked"]
    assert [r.reason for r in lines] == ["password_change"]
