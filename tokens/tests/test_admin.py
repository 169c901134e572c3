"""The sessions admin, through the real admin site as a superuser."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tokens import services, signals
from tokens.models import RefreshToken, RevokeReason, SessionStatus
from tokens.paginator import EXACT_COUNT_LIMIT
from tokens.tests.factories import make_sessions

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tokens/refreshtoken/"


def shown(response) -> list[uuid.UUID]:
    return [session.id for session in response.context["cl"].result_list]


def post_action(admin_client, action: str, sessions, *, confirm: bool = True, **extra):
    """Run an action on these sessions: its first POST, then (``confirm``) the POST of
    the confirmation page's "Yes, revoke"."""
    data = {"action": action, "_selected_action": [str(s.id) for s in sessions], **extra}
    if confirm:
        data["post"] = "yes"
    return admin_client.post(CHANGELIST, data, follow=True)


def detail_url(session) -> str:
    return f"{CHANGELIST}{session.pk}/change/"


def revoke_url(session) -> str:
    return f"{CHANGELIST}{session.pk}/revoke/"


@pytest.fixture
def sessions(user, make_user):
    """Alice: active, expired, revoked; Bob: two active."""
    bob = make_user("bob@example.com")
    now = timezone.now()
    return {
        "active": make_sessions(
            user, 1, now=now, user_agent="Mozilla/5.0 " + "x" * 200, device="Chrome on Linux"
        )[0],
        "expired": make_sessions(
            user, 1, now=now - timedelta(days=10), expires_in=timedelta(days=7)
        )[0],
        "revoked": make_sessions(
            user,
            1,
            now=now - timedelta(days=1),
            revoked_at=now,
            revoke_reason=RevokeReason.REPLAY,
        )[0],
        "bob": make_sessions(bob, 2, now=now - timedelta(hours=1)),
    }


def test_changelist_columns_and_status(admin_client, sessions):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    # The status first (after the checkbox), then the short id that links to the session.
    assert response.context["cl"].list_display == [
        "action_checkbox",
        "status",
        "short_id",
        "user_email",
        "device",
        "created",
        "last_used",
        "expires",
        "ip",
    ]
    # A long login name may wrap at its "@" (<wbr>), never inside a word.
    assert "alice<wbr>@example.com" in html and "bob<wbr>@example.com" in html
    assert '<span class="session-status revoked">revoked</span>' in html
    assert '<small class="session-reason">replay detected</small>' in html
    assert '<span class="session-status expired">expired</span>' in html
    assert '<span class="session-status active">active</span>' in html
    # The device, not the raw user agent (that one is on the session's page).
    assert "Chrome on Linux" in html
    assert "Mozilla/5.0" not in html
    session = sessions["active"]
    link = f'<a href="{detail_url(session)}"><code class="session-id" title="{session.id}">'
    assert f"{link}{session.id.hex[:8]}</code></a>" in html
    # Newest first: the default order is served by tokens_created_idx.
    assert shown(response)[0] == sessions["active"].id


def test_titles_say_view_not_change(admin_client, sessions):
    assert admin_client.get(CHANGELIST).context["title"] == "Select session to view"
    page = admin_client.get(detail_url(sessions["active"]))
    assert page.context["title"] == "View session"
    html = page.content.decode()
    assert "<h1>View session</h1>" in html and "Chrome on Linux" in html


def test_the_index_offers_to_view_sessions_not_to_change_them(admin_client, sessions):
    html = admin_client.get("/admin/").content.decode()
    assert f'<a href="{CHANGELIST}" class="viewlink"' in html
    assert f'<a href="{CHANGELIST}" class="changelink"' not in html
    # "change" still grants the revoke actions.
    actions = admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert {"revoke_selected", "revoke_users_sessions"} <= {name for name, _ in actions}


def test_the_search_hint_names_the_user_models_login_field(admin_client, sessions):
    # This project's user is Django's stock User: its login field is the username.
    html = admin_client.get(CHANGELIST).content.decode()
    assert "A user&#x27;s exact username, or a session id." in html
    assert "email address" not in html


def test_the_ip_address_is_labelled_ip_address(admin_client, sessions):
    html = admin_client.get(detail_url(sessions["active"])).content.decode()
    assert "IP address:" in html
    assert "Ip address" not in html


def test_an_ipv6_address_may_wrap_at_its_colons_only(admin_client, user):
    make_sessions(user, 1, ip_address="2001:db8:85a3::8a2e:370:7334")
    html = admin_client.get(CHANGELIST).content.decode()
    assert "2001:<wbr>db8:<wbr>85a3:<wbr>:<wbr>8a2e:<wbr>370:<wbr>7334" in html


@pytest.mark.parametrize(
    ("status", "expected"),
    [("active", ["active", "bob"]), ("expired", ["expired"]), ("revoked", ["revoked"])],
)
def test_status_filter(admin_client, sessions, status, expected):
    response = admin_client.get(CHANGELIST, {"status": status})
    want = set()
    for key in expected:
        value = sessions[key]
        want |= {s.id for s in value} if isinstance(value, list) else {value.id}
    assert set(shown(response)) == want


def test_the_status_column_and_filter_are_the_models(admin_client, sessions, make_user):
    # A revoked session past its expiry too: revoked wins, in the column and the filter.
    late = make_sessions(
        make_user("carol@example.com"),
        1,
        now=timezone.now() - timedelta(days=10),
        expires_in=timedelta(days=7),
        revoked_at=timezone.now() - timedelta(days=9),
        revoke_reason=RevokeReason.LOGOUT,
    )[0]
    every = RefreshToken.objects.all()
    for status in SessionStatus:
        filtered = set(shown(admin_client.get(CHANGELIST, {"status": status})))
        assert filtered == {s.id for s in every if s.status() == status}
        assert filtered == set(every.with_status(status).values_list("id", flat=True))
    assert late.status() == SessionStatus.REVOKED
    # Past its expiry, the revoked session is purgeable all the same.
    assert late in RefreshToken.objects.purgeable()


def test_search_by_session_id(admin_client, sessions):
    target = sessions["bob"][1]
    for spelling in [str(target.id), target.id.hex, str(target.id).upper()]:
        assert shown(admin_client.get(CHANGELIST, {"q": spelling})) == [target.id]
    assert shown(admin_client.get(CHANGELIST, {"q": str(uuid.uuid4())})) == []


def changelist_queries(client, params=None) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGELIST, params or {})
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("params", [{}, {"status": "active"}, {"q": "alice@example.com"}])
def test_changelist_query_count_is_constant(admin_client, user, params):
    make_sessions(user, 10)
    at_10 = changelist_queries(admin_client, params)
    make_sessions(user, 990, now=timezone.now() - timedelta(hours=1))
    at_1000 = changelist_queries(admin_client, params)
    # The admin's own session and user, the capped count, the page with its users.
    assert len(at_10) == len(at_1000) == 4, at_1000
    # No unbounded COUNT(*) of the table: the only count is capped.
    counts = [sql for sql in at_1000 if "COUNT(" in sql.upper()]
    assert len(counts) == 1
    assert f"LIMIT {EXACT_COUNT_LIMIT + 1}" in counts[0]


def test_count_beyond_the_cap_stops_the_page_links_there(admin_client, user, monkeypatch):
    monkeypatch.setattr("tokens.paginator.EXACT_COUNT_LIMIT", 150)
    make_sessions(user, 250)
    # Filtered, so no estimate applies: the count stops at the cap.
    response = admin_client.get(CHANGELIST, {"p": "2", "status": "active"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 151
    assert len(shown(response)) == 51


@pytest.mark.postgres
def test_unfiltered_count_beyond_the_cap_is_the_planner_estimate(admin_client, user, monkeypatch):
    monkeypatch.setattr("tokens.paginator.EXACT_COUNT_LIMIT", 150)
    make_sessions(user, 250)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tokens_refreshtoken")
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(CHANGELIST, {"p": "2"})
    assert response.context["cl"].result_count == 250
    assert len(shown(response)) == 100
    assert any("reltuples" in q["sql"] for q in ctx.captured_queries)


def test_revoke_selected_sessions(admin_client, api, user, sessions):
    live = services.start_session(user)
    other = sessions["bob"][0]
    events = []

    def on_revoked(sender, **kwargs):
        events.append(kwargs)

    signals.session_revoked.connect(on_revoked, dispatch_uid="test-admin")
    try:
        response = post_action(admin_client, "revoke_selected", [live.session, other])
    finally:
        signals.session_revoked.disconnect(dispatch_uid="test-admin")

    assert "Revoked 2 sessions." in response.content.decode()
    assert RefreshToken.objects.get(pk=live.session.pk).revoke_reason == RevokeReason.ADMIN
    assert RefreshToken.objects.get(pk=other.pk).revoke_reason == RevokeReason.ADMIN
    assert RefreshToken.objects.get(pk=sessions["bob"][1].pk).revoked_at is None
    assert RefreshToken.objects.get(pk=sessions["active"].pk).revoked_at is None
    # The same service path as the API: one event, reason admin, access token dead.
    assert [e["reason"] for e in events] == ["admin"]
    assert {s.id for s in events[0]["sessions"]} == {live.session.id, other.id}
    me = api.get("/api/users/me", HTTP_AUTHORIZATION=f"Bearer {live.access_token}")
    assert me.status_code == 401


def test_revoke_selected_leaves_earlier_revocations_alone(admin_client, sessions):
    post_action(admin_client, "revoke_selected", [sessions["revoked"]])
    assert RefreshToken.objects.get(pk=sessions["revoked"].pk).revoke_reason == "replay"


def test_revoke_all_sessions_of_these_users(admin_client, user, sessions):
    response = post_action(admin_client, "revoke_users_sessions", [sessions["bob"][0]])
    assert "Revoked 2 sessions." in response.content.decode()
    assert not RefreshToken.objects.live().filter(user=sessions["bob"][0].user).exists()
    assert RefreshToken.objects.get(pk=sessions["active"].pk).revoked_at is None


def test_no_add_no_delete_no_edit(admin_client, sessions):
    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    actions = dict(admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    assert set(actions) == {"", "revoke_selected", "revoke_users_sessions"}
    session = sessions["active"]
    url = f"{CHANGELIST}{session.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # view-only
    assert admin_client.post(url, {"user_agent": "edited"}).status_code == 403
    assert RefreshToken.objects.get(pk=session.pk).user_agent.startswith("Mozilla/5.0")


def test_revoke_action_asks_first_and_revokes_nothing(admin_client, sessions):
    target = sessions["bob"][0]
    response = post_action(admin_client, "revoke_selected", [target], confirm=False)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/tokens/refreshtoken/revoke_confirmation.html"
    html = response.content.decode()
    assert "1 live session will be revoked" in html
    assert target.id.hex[:8] in html and "bob@example.com" in html
    # The confirmation posts the same selection back, with post=yes.
    assert f'<input type="hidden" name="_selected_action" value="{target.pk}">' in html
    assert '<input type="hidden" name="action" value="revoke_selected">' in html
    assert '<input type="hidden" name="post" value="yes">' in html
    assert (
        not RefreshToken.objects.filter(revoked_at__isnull=False)
        .exclude(pk=sessions["revoked"].pk)
        .exists()
    )


def test_confirming_the_action_revokes_and_says_so(admin_client, sessions):
    target = sessions["bob"][0]
    response = post_action(admin_client, "revoke_selected", [target])
    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert [str(m) for m in response.context["messages"]] == ["Revoked 1 session."]
    assert RefreshToken.objects.get(pk=target.pk).revoke_reason == RevokeReason.ADMIN
    assert RefreshToken.objects.get(pk=sessions["bob"][1].pk).revoked_at is None


def test_users_action_lists_every_session_it_will_revoke(admin_client, sessions):
    response = post_action(
        admin_client, "revoke_users_sessions", [sessions["bob"][0]], confirm=False
    )
    html = response.content.decode()
    assert "2 live sessions will be revoked" in html
    for session in sessions["bob"]:
        assert session.id.hex[:8] in html
    assert sessions["active"].id.hex[:8] not in html
    assert RefreshToken.objects.live().filter(user=sessions["bob"][0].user).count() == 2


def test_select_across_is_carried_to_the_confirmation(admin_client, sessions):
    params = "?status=active"
    response = admin_client.post(
        CHANGELIST + params,
        {
            "action": "revoke_selected",
            "select_across": "1",
            "_selected_action": [str(sessions["active"].pk)],
        },
    )
    html = response.content.decode()
    assert "3 live sessions will be revoked" in html
    assert '<input type="hidden" name="select_across" value="1">' in html
    assert f'href="{CHANGELIST}{params}"' in html  # "No, take me back" keeps the filter
    confirmed = admin_client.post(
        CHANGELIST + params,
        {
            "action": "revoke_selected",
            "select_across": "1",
            "_selected_action": [str(sessions["active"].pk)],
            "post": "yes",
        },
        follow=True,
    )
    assert [str(m) for m in confirmed.context["messages"]] == ["Revoked 3 sessions."]
    assert not RefreshToken.objects.live().exists()


def test_nothing_live_in_the_selection_offers_nothing_to_confirm(admin_client, sessions):
    response = post_action(
        admin_client, "revoke_selected", [sessions["revoked"], sessions["expired"]], confirm=False
    )
    html = response.content.decode()
    assert "nothing to revoke" in html
    assert 'name="post"' not in html


def test_detail_page_has_a_revoke_button_only_while_live(admin_client, sessions):
    live = sessions["active"]
    html = admin_client.get(detail_url(live)).content.decode()
    assert f'<a href="{revoke_url(live)}" class="deletelink">Revoke this session</a>' in html
    for key in ["revoked", "expired"]:
        html = admin_client.get(detail_url(sessions[key])).content.decode()
        assert "Revoke this session" not in html


def test_detail_page_revoke_confirms_then_revokes(admin_client, sessions):
    live = sessions["active"]
    page = admin_client.get(revoke_url(live))
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 live session will be revoked" in html and live.id.hex[:8] in html
    assert f'href="{detail_url(live)}"' in html  # "No, take me back"
    assert RefreshToken.objects.get(pk=live.pk).revoked_at is None

    response = admin_client.post(revoke_url(live), {"post": "yes"}, follow=True)
    assert response.redirect_chain == [(detail_url(live), 302)]
    assert [str(m) for m in response.context["messages"]] == ["Revoked 1 session."]
    assert RefreshToken.objects.get(pk=live.pk).revoke_reason == RevokeReason.ADMIN
    assert "Revoke this session" not in response.content.decode()


def test_revoking_is_csrf_protected(admin_user, sessions):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    live = sessions["active"]
    assert client.post(revoke_url(live), {"post": "yes"}).status_code == 403
    data = {"action": "revoke_selected", "_selected_action": [str(live.pk)], "post": "yes"}
    assert client.post(CHANGELIST, data).status_code == 403
    assert RefreshToken.objects.get(pk=live.pk).revoked_at is None


@pytest.fixture
def viewer(make_user):
    """A staff user who may view sessions, not change (revoke) them."""
    staff = make_user("viewer@example.com", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_refreshtoken"))
    client = Client()
    client.force_login(staff)
    return client


def test_without_change_permission_nothing_can_be_revoked(viewer, sessions):
    live = sessions["active"]
    assert viewer.get(CHANGELIST).status_code == 200
    html = viewer.get(detail_url(live)).content.decode()
    assert "Revoke this session" not in html
    assert viewer.get(revoke_url(live)).status_code == 403
    assert viewer.post(revoke_url(live), {"post": "yes"}).status_code == 403
    for action in ["revoke_selected", "revoke_users_sessions"]:
        post_action(viewer, action, [live])
        post_action(viewer, action, [live], confirm=False)
    assert RefreshToken.objects.get(pk=live.pk).revoked_at is None


def test_confirmation_lists_a_bounded_number_and_counts_the_rest(admin_client, user, monkeypatch):
    monkeypatch.setattr("tokens.admin_revocation.CONFIRM_SHOWN", 5)
    sessions = make_sessions(user, 8)
    response = admin_client.post(
        CHANGELIST,
        {"action": "revoke_selected", "select_across": "1", "_selected_action": [sessions[0].pk]},
    )
    html = response.content.decode()
    assert "8 live sessions will be revoked" in html
    assert len(response.context["sessions"]) == 5
    assert "And 3 more." in html
    assert sessions[0].id.hex[:8] in html and sessions[7].id.hex[:8] not in html
