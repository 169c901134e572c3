"""The user admin: working add and change forms, live session counts, log out everywhere."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from tokens import services
from tokens.models import RefreshToken, RevokeReason
from tokens.tests.factories import make_sessions

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


def test_add_form_creates_an_email_user(admin_client):
    response = admin_client.post(
        CHANGELIST + "add/",
        {
            "email": "New.Person@Example.com",
            "usable_password": "true",
            "password1": "a long enough passphrase 42",
            "password2": "a long enough passphrase 42",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password("a long enough passphrase 42")


def test_change_form_saves(admin_client, user):
    url = f"{CHANGELIST}{user.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    response = admin_client.post(
        url,
        {
            "email": "alice@example.com",
            "is_active": "",  # deactivate
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "refresh_tokens-TOTAL_FORMS": "0",
            "refresh_tokens-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.is_active is False


def test_changelist_shows_live_session_counts(admin_client, user, make_user):
    bob = make_user("bob@example.com")
    make_sessions(user, 3)
    make_sessions(user, 2, expires_in=-timedelta(seconds=1))
    make_sessions(user, 1, revoked_at=timezone.now(), revoke_reason=RevokeReason.LOGOUT)
    make_sessions(bob, 1)
    response = admin_client.get(CHANGELIST)
    counts = {u.email: u.live_session_count for u in response.context["cl"].result_list}
    assert counts == {"admin@example.com": 0, "alice@example.com": 3, "bob@example.com": 1}


def test_changelist_queries_do_not_grow_with_users(admin_client, make_user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(CHANGELIST).status_code == 200
        return len(ctx.captured_queries)

    make_sessions(make_user("u0@example.com"), 2)
    few = queries()
    for i in range(1, 15):
        make_sessions(make_user(f"u{i}@example.com"), 3)
    assert queries() == few


def test_change_page_lists_live_sessions_read_only(admin_client, user):
    live = make_sessions(user, 2)
    dead = make_sessions(user, 1, revoked_at=timezone.now(), revoke_reason=RevokeReason.LOGOUT)
    html = admin_client.get(f"{CHANGELIST}{user.pk}/change/").content.decode()
    assert all(str(s.id) in html for s in live)
    assert str(dead[0].id) not in html
    assert 'name="refresh_tokens-0-user_agent"' not in html  # read-only, no inputs


def test_a_user_with_thousands_of_sessions_gets_a_short_page(admin_client, user):
    """The page lists the most recently used live sessions, a bounded number of them, and
    links to all of them in the sessions admin: its size and queries do not grow with the
    user's sessions (10,000 sessions once made an 18 MB page)."""
    sessions = make_sessions(user, 500)  # newest first, each used a second before the next
    url = f"{CHANGELIST}{user.pk}/change/"
    with CaptureQueriesContext(connection) as queries:
        html = admin_client.get(url).content.decode()
    shown = [s for s in sessions if str(s.id) in html]
    assert shown == sessions[:20]  # the 20 most recently used, in that order
    assert [html.index(str(s.id)) for s in shown] == sorted(html.index(str(s.id)) for s in shown)
    assert "20 most recently used of 500 live sessions" in html
    link = f"/admin/tokens/refreshtoken/?q={user.email.replace('@', '%40')}&status=active"
    assert f'href="{link.replace("&", "&amp;")}"' in html
    assert str(sessions[20].id)[:8] in admin_client.get(link).content.decode()  # the rest
    make_sessions(user, 500, now=timezone.now() - timedelta(hours=1))
    with CaptureQueriesContext(connection) as more_queries:
        more = admin_client.get(url).content.decode()
    assert len(more_queries) == len(queries)
    assert abs(len(more) - len(html)) < 100


def test_log_out_of_all_devices(admin_client, api, user, make_user):
    issued = services.start_session(user)
    make_sessions(user, 2)
    bob = make_user("bob@example.com")
    make_sessions(bob, 1)
    response = admin_client.post(
        CHANGELIST,
        {"action": "log_out_everywhere", "_selected_action": [str(user.pk)]},
        follow=True,
    )
    assert "Revoked 3 sessions." in response.content.decode()
    revoked = RefreshToken.objects.filter(user=user)
    assert set(revoked.values_list("revoke_reason", flat=True)) == {RevokeReason.ADMIN}
    assert RefreshToken.objects.live().filter(user=bob).count() == 1
    me = api.get("/api/users/me", HTTP_AUTHORIZATION=f"Bearer {issued.access_token}")
    assert me.status_code == 401
