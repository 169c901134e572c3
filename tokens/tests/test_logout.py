from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from tokens.models import RefreshToken, RevokeReason

pytestmark = pytest.mark.django_db


def assert_cookie_deleted(response):
    morsel = response.cookies["refresh_token"]
    assert morsel.value == ""
    assert morsel["max-age"] == 0
    assert morsel["path"] == "/api/auth"
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"


def test_logout_with_bearer_and_cookie(api, user, login, bearer):
    response = login()
    out = api.post("/api/auth/logout", **bearer(response))
    assert out.status_code == 200
    assert out.json() == {"message": "Successfully logged out"}
    assert_cookie_deleted(out)
    session = RefreshToken.objects.get()
    assert session.revoke_reason == RevokeReason.LOGOUT
    assert api.get("/api/users/me", **bearer(response)).status_code == 401


def test_logout_by_cookie_alone(api, user, login, bearer):
    response = login()
    out = api.post("/api/auth/logout")
    assert out.status_code == 200
    assert_cookie_deleted(out)
    assert RefreshToken.objects.get().revoked_at is not None
    assert api.get("/api/users/me", **bearer(response)).status_code == 401


def test_expired_access_token_does_not_block_logout_by_cookie(api, user, login, bearer):
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False) as clock:
        response = login()
        clock.shift(timedelta(hours=2))  # the access token has expired
        assert api.get("/api/users/me", **bearer(response)).status_code == 401
        out = api.post("/api/auth/logout", **bearer(response))
        assert out.status_code == 200
        assert_cookie_deleted(out)
        assert RefreshToken.objects.get().revoked_at is not None


def test_logout_by_bearer_alone(api, user, login, bearer):
    response = login()
    api.cookies.clear()
    out = api.post("/api/auth/logout", **bearer(response))
    assert out.status_code == 200
    assert RefreshToken.objects.get().revoked_at is not None


def test_someone_elses_cookie_is_ignored_with_a_bearer_token(api, user, make_user, login, bearer):
    mallory_user = make_user(email="mallory@example.com")
    mallory = APIClient()
    mallory_login = login(email="mallory@example.com", client=mallory)
    alice_login = login()  # api now holds alice's cookie
    alice_session = RefreshToken.objects.get(user=user)
    out = api.post("/api/auth/logout", **bearer(mallory_login))
    assert out.status_code == 200
    alice_session.refresh_from_db()
    assert alice_session.revoked_at is None
    mallory_session = RefreshToken.objects.get(user=mallory_user)
    assert mallory_session.revoked_at is not None
    assert api.get("/api/users/me", **bearer(alice_login)).status_code == 200


def test_logout_with_nothing_is_401_and_still_deletes_the_cookie(api):
    out = api.post("/api/auth/logout")
    assert out.status_code == 401
    assert out.json() == {"detail": "NOT_AUTHENTICATED"}
    assert_cookie_deleted(out)


def test_logout_with_a_dead_cookie_is_401(api, user, login):
    login()
    api.post("/api/auth/logout")
    api.cookies["refresh_token"] = "garbage"
    out = api.post("/api/auth/logout")
    assert out.status_code == 401
    assert_cookie_deleted(out)


def test_logout_all_revokes_every_session_and_their_access_tokens(
    api, user, make_user, login, bearer
):
    make_user(email="bob@example.com")
    devices = [APIClient() for _ in range(3)]
    logins = [login(client=device) for device in devices]
    bob = login(email="bob@example.com", client=APIClient())
    out = devices[0].post("/api/auth/logout-all", **bearer(logins[0]))
    assert out.status_code == 200
    assert out.json() == {
        "message": "Successfully logged out from all devices. Revoked 3 sessions.",
        "revoked": 3,
    }
    assert_cookie_deleted(out)
    for device, response in zip(devices, logins, strict=True):
        assert device.get("/api/users/me", **bearer(response)).status_code == 401
        assert device.post("/api/auth/refresh").status_code == 401
    assert set(RefreshToken.objects.filter(user=user).values_list("revoke_reason", flat=True)) == {
        RevokeReason.LOGOUT_ALL
    }
    assert api.get("/api/users/me", **bearer(bob)).status_code == 200


def test_logout_all_needs_a_bearer_token(api, user, login):
    login()
    out = api.post("/api/auth/logout-all")
    assert out.status_code == 401
    assert out.json() == {"detail": "NOT_AUTHENTICATED"}
    assert RefreshToken.objects.get().revoked_at is None
