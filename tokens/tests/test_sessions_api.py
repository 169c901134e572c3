import uuid

import pytest
from rest_framework.test import APIClient

from tokens.models import RefreshToken, RevokeReason

pytestmark = pytest.mark.django_db


def test_sessions_lists_live_sessions_newest_first_with_current(api, user, login, bearer):
    phone, laptop = APIClient(), APIClient()
    login(client=phone, HTTP_USER_AGENT="phone")
    phone.post("/api/auth/logout")  # revoked: not listed
    first = login(client=laptop)
    current = login()
    response = api.get("/api/auth/sessions", **bearer(current))
    assert response.status_code == 200
    sessions = response.json()
    assert len(sessions) == 2
    assert set(sessions[0]) == {
        "id",
        "created_at",
        "last_used_at",
        "expires_at",
        "user_agent",
        "device",
        "ip_address",
        "current",
    }
    assert [s["current"] for s in sessions] == [True, False]
    assert sessions[0]["id"] == current_sid(current)
    assert sessions[1]["id"] == current_sid(first)
    assert sessions[0]["ip_address"] == "127.0.0.1"


def current_sid(response) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return AccessToken(response.json()["access_token"])["sid"]


def test_sessions_of_other_users_are_not_listed(api, user, make_user, login, bearer):
    make_user(email="bob@example.com")
    login(email="bob@example.com", client=APIClient())
    mine = login()
    assert [s["id"] for s in api.get("/api/auth/sessions", **bearer(mine)).json()] == [
        current_sid(mine)
    ]


def test_delete_a_session_revokes_it_at_once(api, user, login, bearer):
    other_device = APIClient()
    other = login(client=other_device)
    mine = login()
    response = api.delete(f"/api/auth/sessions/{current_sid(other)}", **bearer(mine))
    assert response.status_code == 204
    assert other_device.get("/api/users/me", **bearer(other)).status_code == 401
    assert other_device.post("/api/auth/refresh").status_code == 401
    session = RefreshToken.objects.get(pk=current_sid(other))
    assert session.revoke_reason == RevokeReason.REVOKED
    assert api.get("/api/users/me", **bearer(mine)).status_code == 200


def test_delete_someone_elses_or_an_unknown_session_is_404(api, user, make_user, login, bearer):
    make_user(email="bob@example.com")
    bobs = login(email="bob@example.com", client=APIClient())
    mine = login()
    for target in (current_sid(bobs), str(uuid.uuid4())):
        response = api.delete(f"/api/auth/sessions/{target}", **bearer(mine))
        assert response.status_code == 404
        assert response.json() == {"detail": "NOT_FOUND"}
    assert RefreshToken.objects.get(pk=current_sid(bobs)).revoked_at is None


def test_sessions_need_a_bearer_token(api):
    assert api.get("/api/auth/sessions").status_code == 401
    response = api.delete(f"/api/auth/sessions/{uuid.uuid4()}")
    assert response.status_code == 401
    assert response.json() == {"detail": "NOT_AUTHENTICATED"}


def test_a_forged_or_expired_access_token_is_refused(api, user, login):
    login()
    response = api.get("/api/users/me", HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert response.status_code == 401
    assert response.json() == {"detail": "ACCESS_TOKEN_INVALID"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_plain_simplejwt_token_without_a_session_is_refused(api, user):
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)  # valid signature, no sid claim
    response = api.get("/api/users/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json() == {"detail": "ACCESS_TOKEN_INVALID"}


def test_access_token_dies_when_the_user_is_deactivated(api, user, login, bearer):
    response = login()
    user.is_active = False
    user.save()
    assert api.get("/api/users/me", **bearer(response)).status_code == 401


CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


def test_sessions_name_their_device_parsed_once_at_login(api, user, login, bearer, monkeypatch):
    from tokens import devices

    api.credentials(HTTP_USER_AGENT=CHROME_ON_LINUX)
    headers = bearer(login())
    # Listing parses nothing: the device was stored with the session.
    monkeypatch.setattr(devices, "describe", None)
    [session] = api.get("/api/auth/sessions", **headers).json()
    assert session["device"] == "Chrome on Linux"
    assert session["user_agent"] == CHROME_ON_LINUX


def test_the_list_is_bounded_and_keeps_the_current_session(api, user, login, bearer, settings):
    """With the cap off a user may have thousands of sessions: the list holds the newest
    SESSIONS_LIST_LIMIT (the default cap, so with it every live session), and the
    caller's own session even when it is older than those."""
    from datetime import timedelta

    from django.utils import timezone

    from tokens.tests.factories import make_sessions

    settings.TOKENS = {**settings.TOKENS, "SESSIONS_PER_USER_LIMIT": 0}
    mine = login()
    RefreshToken.objects.filter(pk=current_sid(mine)).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    newer = make_sessions(user, 150)
    sessions = api.get("/api/auth/sessions", **bearer(mine)).json()
    assert [s["id"] for s in sessions] == [str(s.id) for s in newer[:100]] + [current_sid(mine)]
    assert [s["current"] for s in sessions] == [False] * 100 + [True]
