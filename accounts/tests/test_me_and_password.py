import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from tokens.models import RefreshToken, RevokeReason
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "an entirely new passphrase 7"


def test_me_returns_the_user(api, user, login, bearer):
    response = api.get("/api/users/me", **bearer(login()))
    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": "alice@example.com",
        "is_active": True,
        "is_superuser": False,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_me_needs_a_bearer_token(api):
    response = api.get("/api/users/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "NOT_AUTHENTICATED"}


def test_change_password_revokes_every_other_session(api, user, login, bearer):
    devices = [APIClient(), APIClient()]
    others = [login(client=d) for d in devices]
    current = login()
    response = api.post(
        "/api/auth/change-password",
        {"current_password": PASSWORD, "new_password": NEW},
        format="json",
        **bearer(current),
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Password changed", "revoked": 2}
    for device, other in zip(devices, others, strict=True):
        assert device.get("/api/users/me", **bearer(other)).status_code == 401
        assert device.post("/api/auth/refresh").status_code == 401
    # The current session lives on.
    assert api.get("/api/users/me", **bearer(current)).status_code == 200
    assert api.post("/api/auth/refresh").status_code == 200
    reasons = RefreshToken.objects.exclude(revoked_at=None).values_list("revoke_reason", flat=True)
    assert list(reasons) == [RevokeReason.PASSWORD_CHANGE] * 2
    user.refresh_from_db()
    assert user.check_password(NEW)
    login(password=NEW, client=APIClient())


def test_wrong_current_password(api, user, login, bearer):
    other = APIClient()
    login(client=other)
    response = api.post(
        "/api/auth/change-password",
        {"current_password": "nope", "new_password": NEW},
        format="json",
        **bearer(login()),
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "CHANGE_PASSWORD_INVALID_CURRENT"}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not RefreshToken.objects.exclude(revoked_at=None).exists()


def test_weak_new_password_is_a_validator_error(api, user, login, bearer):
    response = api.post(
        "/api/auth/change-password",
        {"current_password": PASSWORD, "new_password": "123"},
        format="json",
        **bearer(login()),
    )
    assert response.status_code == 400
    assert response.json()["new_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_createsuperuser_works_by_email(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", "--noinput", "--email", "Root@Example.com", verbosity=0)
    admin = User.objects.get()
    assert admin.email == "root@example.com"
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(PASSWORD)
