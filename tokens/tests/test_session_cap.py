"""SESSIONS_PER_USER_LIMIT: a login beyond it evicts the least recently used session."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tokens import services
from tokens.models import RefreshToken, RevokeReason
from tokens.tests.factories import make_sessions

pytestmark = pytest.mark.django_db


def test_login_beyond_the_cap_evicts_the_least_recently_used(settings, user):
    settings.TOKENS = {**settings.TOKENS, "SESSIONS_PER_USER_LIMIT": 3}
    t0 = timezone.now()
    first = services.start_session(user, now=t0)
    second = services.start_session(user, now=t0 + timedelta(minutes=1))
    third = services.start_session(user, now=t0 + timedelta(minutes=2))
    # The oldest login is used again: the second one is now the least recently used.
    services.refresh(first.refresh_token, now=t0 + timedelta(minutes=3))

    fourth = services.start_session(user, now=t0 + timedelta(minutes=4))

    live = set(RefreshToken.objects.live().filter(user=user).values_list("id", flat=True))
    assert live == {first.session.id, third.session.id, fourth.session.id}
    evicted = RefreshToken.objects.get(pk=second.session.id)
    assert evicted.revoke_reason == RevokeReason.EVICTED


def test_evicted_sessions_access_token_dies(settings, api, user, login, bearer):
    settings.TOKENS = {**settings.TOKENS, "SESSIONS_PER_USER_LIMIT": 1}
    old = login()
    assert api.get("/api/users/me", **bearer(old)).status_code == 200
    new = login(client=APIClient())
    assert api.get("/api/users/me", **bearer(old)).status_code == 401
    assert api.get("/api/users/me", **bearer(new)).status_code == 200
    # And its refresh cookie (still held by `api`) is dead too.
    assert api.post("/api/auth/refresh").json() == {"detail": "REFRESH_TOKEN_INVALID"}


def test_other_users_and_dead_sessions_do_not_count(settings, user, make_user):
    settings.TOKENS = {**settings.TOKENS, "SESSIONS_PER_USER_LIMIT": 2}
    bob = make_user("bob@example.com")
    make_sessions(bob, 5)
    make_sessions(user, 5, expires_in=-timedelta(seconds=1))
    make_sessions(user, 5, revoked_at=timezone.now(), revoke_reason=RevokeReason.LOGOUT)
    mine = make_sessions(user, 1)
    services.start_session(user)
    assert RefreshToken.objects.get(pk=mine[0].pk).revoked_at is None
    assert RefreshToken.objects.live().filter(user=bob).count() == 5


def test_zero_means_no_limit(settings, user):
    settings.TOKENS = {**settings.TOKENS, "SESSIONS_PER_USER_LIMIT": 0}
    make_sessions(user, 120)
    services.start_session(user)
    assert RefreshToken.objects.live().filter(user=user).count() == 121


@pytest.mark.parametrize("existing", [5, 60])
def test_eviction_costs_the_same_queries_however_many_are_evicted(settings, user, existing):
    settings.TOKENS = {**settings.TOKENS, "SESSIONS_PER_USER_LIMIT": 3}
    make_sessions(user, existing)
    with CaptureQueriesContext(connection) as ctx:
        services.start_session(user)
    control = ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT")
    writes = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(control)]
    assert len(writes) == 2, writes  # one UPDATE ... RETURNING, one INSERT
    assert RefreshToken.objects.live().filter(user=user).count() == 3
