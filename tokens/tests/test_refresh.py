from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tokens import crypto
from tokens.models import RefreshToken, RevokeReason

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def refresh(api, token=None):
    if token is not None:
        api.cookies["refresh_token"] = token
    return api.post("/api/auth/refresh")


def cookie(response) -> str:
    return response.cookies["refresh_token"].value


def assert_cookie_deleted(response):
    morsel = response.cookies["refresh_token"]
    assert morsel.value == ""
    assert morsel["max-age"] == 0
    assert morsel["path"] == "/api/auth"


def assert_invalid(response):
    assert response.status_code == 401
    assert response.json() == {"detail": "REFRESH_TOKEN_INVALID"}
    assert_cookie_deleted(response)


def test_refresh_rotates_the_cookie_and_issues_an_access_token(api, user, login, bearer):
    first = cookie(login())
    response = refresh(api)
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "token_type", "expires_in"}
    assert response["Cache-Control"] == "no-store"
    second = cookie(response)
    assert second != first
    assert crypto.decode(second).generation == 2
    assert RefreshToken.objects.get().generation == 2
    assert api.get("/api/users/me", **bearer(response)).status_code == 200


def test_refresh_cookie_attributes_match_login(api, user, login):
    login()
    morsel = refresh(api).cookies["refresh_token"]
    assert morsel["path"] == "/api/auth"
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["max-age"] == 604800


def test_without_cookie_the_refresh_is_missing(api):
    response = api.post("/api/auth/refresh")
    assert response.status_code == 401
    assert response.json() == {"detail": "REFRESH_TOKEN_MISSING"}


def test_rotated_token_is_one_lineage_not_a_fork(api, user, login, clock):
    """The predecessor in the interval gets the byte-identical successor."""
    first = cookie(login())
    clock.shift(1)
    second = cookie(refresh(api, first))
    clock.shift(5)
    again = refresh(api, first)
    assert again.status_code == 200
    assert cookie(again) == second
    session = RefreshToken.objects.get()
    assert session.generation == 2
    # The successor is still the live token of the one session.
    assert refresh(api, second).status_code == 200


def test_predecessor_after_the_interval_is_a_replay(api, user, login, bearer, clock):
    first = cookie(login())
    rotated = refresh(api, first)
    second = cookie(rotated)
    clock.shift(11)
    assert_invalid(refresh(api, first))
    session = RefreshToken.objects.get()
    assert session.revoked_at is not None
    assert session.revoke_reason == RevokeReason.REPLAY
    # The live token and every access token of the session are dead too.
    assert_invalid(refresh(api, second))
    assert api.get("/api/users/me", **bearer(rotated)).status_code == 401


def test_two_generations_back_is_a_replay_at_once(api, user, login, bearer, clock):
    first = cookie(login())
    second = cookie(refresh(api, first))
    third_response = refresh(api, second)
    assert third_response.status_code == 200
    assert_invalid(refresh(api, first))
    assert RefreshToken.objects.get().revoke_reason == RevokeReason.REPLAY
    assert_invalid(refresh(api, cookie(third_response)))
    assert api.get("/api/users/me", **bearer(third_response)).status_code == 401


def test_replay_is_logged_as_a_security_event_without_the_token(api, user, login, clock, caplog):
    first = cookie(login())
    second = cookie(refresh(api, first))
    clock.shift(30)
    with caplog.at_level("INFO", logger="security"):
        refresh(api, first)
    warnings = [r for r in caplog.records if r.name == "security" and r.levelname == "WARNING"]
    assert len(warnings) == 1
    dumped = repr(warnings[0].__dict__) + warnings[0].getMessage()
    assert str(RefreshToken.objects.get().id) in dumped
    assert first not in dumped and second not in dumped


def test_logout_is_never_undone_inside_the_interval(api, user, login, clock):
    first = cookie(login())
    second = cookie(refresh(api, first))
    assert api.post("/api/auth/logout").status_code == 200
    assert_invalid(refresh(api, first))
    assert_invalid(refresh(api, second))
    assert RefreshToken.objects.get().revoke_reason == RevokeReason.LOGOUT


def test_idle_expiry_ends_the_session(api, user, login, clock):
    token = cookie(login())
    clock.shift(timedelta(days=7, seconds=1))
    assert_invalid(refresh(api, token))


def test_each_refresh_moves_the_idle_expiry(api, user, login, clock):
    token = cookie(login())
    for _ in range(3):  # 18 days in all, never 7 idle
        clock.shift(timedelta(days=6))
        response = refresh(api, token)
        assert response.status_code == 200
        token = cookie(response)
    session = RefreshToken.objects.get()
    assert session.expires_at == T0 + timedelta(days=18 + 7)


def test_absolute_expiry_never_moves(api, user, login, clock):
    token = cookie(login())
    for _ in range(4):  # 24 days
        clock.shift(timedelta(days=6))
        response = refresh(api, token)
        token = cookie(response)
    session = RefreshToken.objects.get()
    assert session.absolute_expires_at == T0 + timedelta(days=30)
    # The idle expiry is capped by the absolute one, and so is the cookie.
    clock.shift(timedelta(days=5))
    response = refresh(api, token)
    assert response.status_code == 200
    assert response.cookies["refresh_token"]["max-age"] == timedelta(days=1).total_seconds()
    clock.shift(timedelta(days=1, seconds=1))
    assert_invalid(refresh(api, cookie(response)))


def test_remember_me_session_lives_past_the_short_idle_lifetime(api, user, login, clock):
    token = cookie(login(remember_me=True))
    clock.shift(timedelta(days=20))
    assert refresh(api, token).status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t[:40],
        lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),
        lambda t: t + "x",
        lambda t: "x" * 76,
        lambda t: "not a token",
        lambda t: t.replace(t[10], "-" if t[10] != "-" else "_"),
    ],
)
def test_tampered_or_truncated_tokens_are_invalid(api, user, login, mangle):
    token = cookie(login())
    assert_invalid(refresh(api, mangle(token)))
    # A bad token is not a replay: the real session lives on.
    assert RefreshToken.objects.get().revoked_at is None
    assert refresh(api, token).status_code == 200


def test_token_of_an_unknown_session_is_invalid(api, user, login):
    import uuid

    login()
    assert_invalid(refresh(api, crypto.encode(uuid.uuid4(), 1)))


def test_token_signed_with_another_key_is_invalid(api, user, login, settings):
    token = cookie(login())
    settings.SECRET_KEY = "some-other-key-that-the-attacker-made-up-for-this"
    assert_invalid(refresh(api, token))


def test_inactive_user_cannot_refresh(api, user, login):
    token = cookie(login())
    user.is_active = False
    user.save()
    response = refresh(api, token)
    assert response.status_code == 401
    assert response.json() == {"detail": "USER_INACTIVE"}
    assert "refresh_token" not in response.cookies
    user.is_active = True
    user.save()
    assert refresh(api, token).status_code == 200


def test_deleted_user_takes_the_sessions_along(api, user, login):
    token = cookie(login())
    user.delete()
    assert not RefreshToken.objects.exists()
    assert_invalid(refresh(api, token))


def set_cookie_header(response) -> str:
    """The Set-Cookie header itself: the test client's cookie jar ignores Max-Age."""
    return response.cookies["refresh_token"].OutputString()


def test_without_rotation_the_same_cookie_is_renewed(api, user, login, settings, clock):
    settings.TOKENS = {**settings.TOKENS, "REFRESH_TOKEN_ROTATE": False}
    token = cookie(login())
    clock.shift(timedelta(days=6))
    response = refresh(api, token)
    assert response.status_code == 200
    # The same token, with a Max-Age that runs from now: a browser drops the cookie at
    # the Max-Age it last got, however active the user is.
    header = set_cookie_header(response)
    assert header.startswith(f"refresh_token={token};")
    assert "Max-Age=604800;" in header
    session = RefreshToken.objects.get()
    assert session.generation == 1
    assert session.expires_at == T0 + timedelta(days=13)
    clock.shift(timedelta(days=6))
    assert refresh(api, token).status_code == 200


def test_max_age_is_rounded_up_never_zero_on_a_200(api, user, login, clock):
    token = cookie(login(remember_me=True))
    # 0.4 s before the absolute expiry the session still lives: its cookie must too.
    for _ in range(4):
        clock.shift(timedelta(days=7))
        token = cookie(refresh(api, token))
    clock.shift(timedelta(days=2) - timedelta(milliseconds=400))
    response = refresh(api, token)
    assert response.status_code == 200
    assert "Max-Age=1;" in set_cookie_header(response)


@pytest.mark.parametrize(
    "raw_cookie",
    ["é" * 50, "\x00\x01", "x" * 10_000, '"quoted"', "a;b=c", "%ff%fe"],
)
def test_strange_cookies_are_invalid_not_errors(api, user, login, raw_cookie):
    login()
    response = api.post("/api/auth/refresh", HTTP_COOKIE=f"refresh_token={raw_cookie}")
    assert response.status_code == 401
    assert response.json()["detail"] in {"REFRESH_TOKEN_INVALID", "REFRESH_TOKEN_MISSING"}
