"""The new-device email's switch: GET/PUT /api/auth/notifications (bearer), a strict
JSON boolean, one row per user who chose, none for the default (on)."""

import pytest
from rest_framework.test import APIClient

from tokens import notifications
from tokens.models import NotificationPreference

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(user, login, bearer):
    """An API client of ``user`` and its bearer headers."""
    client = APIClient()
    return client, bearer(login(client=client))


def test_the_preference_endpoint(user, signed_in):
    client, headers = signed_in
    assert client.get("/api/auth/notifications", **headers).json() == {"new_device": True}
    answer = client.put("/api/auth/notifications", {"new_device": False}, format="json", **headers)
    assert answer.status_code == 200
    assert answer.json() == {"new_device": False}
    assert client.get("/api/auth/notifications", **headers).json() == {"new_device": False}
    assert NotificationPreference.objects.get(user=user).new_device is False
    client.put("/api/auth/notifications", {"new_device": True}, format="json", **headers)
    assert notifications.wants_new_device_email(user) is True


@pytest.mark.parametrize("value", ["false", 0, None, "no", [], {}])
def test_the_preference_must_be_a_json_boolean(user, signed_in, value):
    client, headers = signed_in
    answer = client.put("/api/auth/notifications", {"new_device": value}, format="json", **headers)
    assert answer.status_code == 400
    assert "new_device" in answer.json()
    assert notifications.wants_new_device_email(user) is True


def test_the_preference_needs_a_bearer_token(api, db):
    assert api.get("/api/auth/notifications").status_code == 401
    put = api.put("/api/auth/notifications", {"new_device": False}, format="json")
    assert put.status_code == 401


def test_each_user_has_their_own_preference(user, make_user):
    other = make_user("bob@example.com")
    notifications.set_preferences(other, new_device=False)
    assert notifications.preferences(user) == {"new_device": True}
    assert notifications.preferences(other) == {"new_device": False}


def test_the_admin_lists_searches_and_changes_preferences(admin_client, user, make_user):
    other = make_user("bob@example.com")
    notifications.set_preferences(user, new_device=False)
    notifications.set_preferences(other, new_device=True)
    url = "/admin/tokens/notificationpreference/"
    page = admin_client.get(url, {"q": f" {user.get_username()} "})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [user.notification_preference]
    assert list(admin_client.get(url, {"new_device__exact": "0"}).context["cl"].result_list) == [
        user.notification_preference
    ]
    change = admin_client.post(f"{url}{user.pk}/change/", {"user": user.pk, "new_device": "on"})
    assert change.status_code == 302
    assert notifications.wants_new_device_email(user) is True


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("", "application/x-www-form-urlencoded"),
        ("other=1", "application/x-www-form-urlencoded"),
        ("{}", "application/json"),
        ('{"other": true}', "application/json"),
    ],
)
def test_a_body_without_the_preference_changes_nothing(user, signed_in, body, content_type):
    # DRF reads a boolean missing from a form as an unticked checkbox (false): an empty
    # form would have turned the new-device email off.
    client, headers = signed_in
    answer = client.generic(
        "PUT", "/api/auth/notifications", body, content_type=content_type, **headers
    )
    assert answer.status_code == 400
    assert answer.json() == {"new_device": ["This field is required."]}
    assert notifications.wants_new_device_email(user) is True
    assert not NotificationPreference.objects.exists()


def test_a_form_body_still_sets_the_preference(user, signed_in):
    client, headers = signed_in
    answer = client.generic(
        "PUT",
        "/api/auth/notifications",
        "new_device=false",
        content_type="application/x-www-form-urlencoded",
        **headers,
    )
    assert answer.status_code == 200, answer.content
    assert notifications.wants_new_device_email(user) is False
