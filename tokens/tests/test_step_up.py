"""Step-up: ``auth_time`` in access tokens, RecentLogin on destructive actions, and
``POST /api/auth/reauthenticate``."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from django.contrib.auth.signals import user_login_failed
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from tokens import notifications
from tokens.authentication import SessionJWTAuthentication
from tokens.models import RefreshToken
from tokens.permissions import RecentLogin
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
STALE = timedelta(seconds=601)  # past the default REAUTHENTICATION_MAX_AGE (600 s)
REQUIRED = {"detail": "REAUTHENTICATION_REQUIRED"}


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def claims(response) -> dict:
    # What the token says, not whether it verifies: tests/test_authentication does that.
    return jwt.decode(response.json()["access_token"], options={"verify_signature": False})


def auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def reauthenticate(api, token: str, password: str = PASSWORD):
    return api.post(
        "/api/auth/reauthenticate", {"password": password}, format="json", **auth(token)
    )


def test_login_token_carries_auth_time(api, user, login, clock):
    assert claims(login())["auth_time"] == int(T0.timestamp())


def test_a_refresh_keeps_auth_time(api, user, login, clock):
    login()
    clock.shift(timedelta(hours=2))
    first = api.post("/api/auth/refresh")  # the fast path (one UPDATE)
    assert first.status_code == 200
    assert claims(first)["auth_time"] == int(T0.timestamp())
    assert claims(first)["iat"] == int((T0 + timedelta(hours=2)).timestamp())


def test_a_retry_inside_the_reuse_interval_keeps_auth_time(api, user, login, clock):
    first = login().cookies["refresh_token"].value
    clock.shift(timedelta(hours=2))
    api.post("/api/auth/refresh")
    api.cookies["refresh_token"] = first  # the locked path: the same successor again
    again = api.post("/api/auth/refresh")
    assert again.status_code == 200
    assert claims(again)["auth_time"] == int(T0.timestamp())


def test_logout_all_with_a_fresh_login_works(api, user, login, bearer):
    assert api.post("/api/auth/logout-all", **bearer(login())).status_code == 200


def test_logout_all_with_a_stale_proof_is_refused_and_revokes_nothing(
    api, user, login, bearer, clock
):
    headers = bearer(login())
    login(client=APIClient())  # another device
    clock.shift(STALE)
    response = api.post("/api/auth/logout-all", **headers)
    assert response.status_code == 403
    assert response.json() == REQUIRED
    assert RefreshToken.objects.live().count() == 2
    assert "refresh_token" not in response.cookies  # the cookie is kept too


def test_refreshed_token_is_still_stale(api, user, login, bearer, clock):
    login()
    clock.shift(STALE)
    refreshed = api.post("/api/auth/refresh")
    assert api.post("/api/auth/logout-all", **bearer(refreshed)).json() == REQUIRED


def test_reauthenticate_gives_a_fresh_token_for_the_same_session(api, user, login, clock):
    first = login()
    clock.shift(STALE)
    cookie_before = api.cookies["refresh_token"].value
    response = reauthenticate(api, first.json()["access_token"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert response["Cache-Control"] == "no-store"
    assert "refresh_token" not in response.cookies  # the cookie is not touched
    assert api.cookies["refresh_token"].value == cookie_before
    assert claims(response)["sid"] == claims(first)["sid"]
    assert claims(response)["auth_time"] == int((T0 + STALE).timestamp())
    # ...and the fresh proof lets the destructive action through.
    logout_all = api.post("/api/auth/logout-all", **auth(body["access_token"]))
    assert logout_all.status_code == 200


def test_the_fresh_proof_outlives_refreshes(api, user, login, clock):
    first = login()
    clock.shift(STALE)
    reauthenticate(api, first.json()["access_token"])
    clock.shift(timedelta(minutes=5))
    refreshed = api.post("/api/auth/refresh")
    assert claims(refreshed)["auth_time"] == int((T0 + STALE).timestamp())


def test_reauthenticate_with_a_wrong_password(api, user, login, clock):
    token = login().json()["access_token"]
    clock.shift(STALE)
    failures = []

    def listener(sender, credentials, request, **kwargs):
        failures.append(credentials)

    user_login_failed.connect(listener)
    try:
        response = reauthenticate(api, token, "not the password")
    finally:
        user_login_failed.disconnect(listener)
    assert response.status_code == 400
    assert response.json() == {"detail": "REAUTHENTICATE_BAD_PASSWORD"}
    assert failures == [{"username": user.get_username()}]  # no password in it
    session = RefreshToken.objects.get()
    assert session.authenticated_at == T0  # nothing renewed
    assert api.post("/api/auth/logout-all", **auth(token)).json() == REQUIRED


@pytest.mark.parametrize(
    "body", [{}, {"password": 12345678}, {"password": None}], ids=["missing", "number", "null"]
)
def test_reauthenticate_field_errors(api, user, login, body):
    token = login().json()["access_token"]
    response = api.post("/api/auth/reauthenticate", body, format="json", **auth(token))
    assert response.status_code == 400
    assert "password" in response.json()


def test_reauthenticate_needs_a_live_session(api, user, login):
    token = login().json()["access_token"]
    api.post("/api/auth/logout")
    response = reauthenticate(api, token)
    assert response.status_code == 401
    assert response.json() == {"detail": "ACCESS_TOKEN_INVALID"}


def test_reauthenticate_without_a_bearer_token(api, user):
    response = api.post("/api/auth/reauthenticate", {"password": PASSWORD}, format="json")
    assert response.status_code == 401


def test_revoking_another_session_needs_a_recent_proof(api, user, login, clock):
    mine = login().json()["access_token"]
    other = claims(login(client=APIClient()))["sid"]
    clock.shift(STALE)
    response = api.delete(f"/api/auth/sessions/{other}", **auth(mine))
    assert response.status_code == 403
    assert response.json() == REQUIRED
    assert RefreshToken.objects.get(pk=other).revoked_at is None
    fresh = reauthenticate(api, mine).json()["access_token"]
    assert api.delete(f"/api/auth/sessions/{other}", **auth(fresh)).status_code == 204
    assert RefreshToken.objects.get(pk=other).revoked_at is not None


def test_revoking_ones_own_session_is_a_logout_and_needs_no_proof(api, user, login, clock):
    first = login()
    clock.shift(STALE)
    sid = claims(first)["sid"]
    assert (
        api.delete(f"/api/auth/sessions/{sid}", **auth(first.json()["access_token"])).status_code
        == 204
    )


def test_max_age_zero_turns_the_check_off(api, user, login, bearer, clock, settings):
    settings.TOKENS = {**settings.TOKENS, "REAUTHENTICATION_MAX_AGE": 0}
    headers = bearer(login())
    clock.shift(timedelta(minutes=59))
    assert api.post("/api/auth/logout-all", **headers).status_code == 200


def test_the_max_age_setting_is_read_at_each_request(api, user, login, bearer, clock, settings):
    headers = bearer(login())
    clock.shift(timedelta(seconds=120))
    settings.TOKENS = {**settings.TOKENS, "REAUTHENTICATION_MAX_AGE": 60}
    assert api.post("/api/auth/logout-all", **headers).json() == REQUIRED


# RecentLogin in a project's own view.


class DeleteAccount(APIView):
    authentication_classes = [SessionJWTAuthentication]
    permission_classes = [IsAuthenticated, RecentLogin(max_age=60)]

    def post(self, request):
        return Response({"deleted": True})


class DeleteAccountDefault(DeleteAccount):
    permission_classes = [IsAuthenticated, RecentLogin]


def call(view, token: str):
    request = APIRequestFactory().post("/delete-account", **auth(token))
    return view.as_view()(request)


def test_recent_login_with_its_own_max_age(api, user, login, clock):
    token = login().json()["access_token"]
    clock.shift(timedelta(seconds=60))
    assert call(DeleteAccount, token).status_code == 200
    clock.shift(timedelta(seconds=1))
    refused = call(DeleteAccount, token)
    assert refused.status_code == 403
    assert refused.data == REQUIRED
    assert call(DeleteAccountDefault, token).status_code == 200  # 61 s < 600 s


def test_recent_login_without_a_token_is_not_authenticated(db):
    request = APIRequestFactory().post("/delete-account")
    assert DeleteAccount.as_view()(request).status_code == 401


def test_a_token_without_auth_time_is_not_recent(api, user, login, settings):
    # Issued before auth_time existed: as if the proof were long ago.
    token = login().json()["access_token"]
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    del payload["auth_time"]
    key = settings.SIMPLE_JWT.get("SIGNING_KEY", settings.SECRET_KEY)
    old = jwt.encode(payload, key, algorithm=header["alg"], headers=header)
    assert call(DeleteAccount, old).data == REQUIRED


@pytest.mark.parametrize("value", [-1, 600.0, "600", True, timedelta(minutes=10)])
def test_a_max_age_that_is_not_whole_seconds_fails_the_system_check(settings, value):
    from tokens.checks import check_reauthentication_max_age

    settings.TOKENS = {**settings.TOKENS, "REAUTHENTICATION_MAX_AGE": value}
    (error,) = check_reauthentication_max_age(None)
    assert error.id == "tokens.E005"
    assert "REAUTHENTICATION_MAX_AGE" in error.msg


@pytest.mark.parametrize("value", [0, 1, 600])
def test_whole_seconds_pass_the_system_check(settings, value):
    from tokens.checks import check_reauthentication_max_age

    settings.TOKENS = {**settings.TOKENS, "REAUTHENTICATION_MAX_AGE": value}
    assert check_reauthentication_max_age(None) == []


def test_turning_a_security_email_off_needs_a_recent_proof(api, user, login, clock):
    # A stolen access token must not silence the new-device email before the thief
    # learns the password too; turning it back on needs no proof.
    token = login().json()["access_token"]
    clock.shift(STALE)
    off = api.put("/api/auth/notifications", {"new_device": False}, format="json", **auth(token))
    assert off.status_code == 403
    assert off.json() == REQUIRED
    assert notifications.wants_new_device_email(user) is True
    on = api.put("/api/auth/notifications", {"new_device": True}, format="json", **auth(token))
    assert on.status_code == 200
    fresh = reauthenticate(api, token).json()["access_token"]
    off = api.put("/api/auth/notifications", {"new_device": False}, format="json", **auth(fresh))
    assert off.status_code == 200
    assert notifications.wants_new_device_email(user) is False
