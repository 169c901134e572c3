"""A JSON body says what it means: a number is not a password, "yes" is not true.

DRF's CharField turns 42 into "42" and its BooleanField takes "yes"; the schema says
string and boolean, so JSON bodies get exactly those or a 400 field error. Form bodies
are strings by nature: there "true" still means true.
"""

import pytest
from rest_framework import serializers

from tokens.fields import StrictBooleanField, StrictCharField
from tokens.models import RefreshToken
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "field,value",
    [
        ("password", 12345678),
        ("password", 1.5),
        ("password", True),
        ("password", ["x"]),
        ("email", 42),
        ("email", {"a": 1}),
        ("remember_me", "yes"),
        ("remember_me", "true"),
        ("remember_me", 1),
        ("remember_me", "on"),
    ],
)
def test_login_json_of_the_wrong_type_is_a_field_error(api, user, field, value):
    body = {"email": "alice@example.com", "password": PASSWORD, field: value}
    response = api.post("/api/auth/login", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert not RefreshToken.objects.exists()


def test_a_numeric_password_is_refused_even_when_it_is_the_password(api, make_user):
    make_user(email="num@example.com", password="12345678")
    body = {"email": "num@example.com", "password": 12345678}
    response = api.post("/api/auth/login", body, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_json_booleans_still_work(api, user):
    for value in (True, False):
        body = {"email": "alice@example.com", "password": PASSWORD, "remember_me": value}
        response = api.post("/api/auth/login", body, format="json")
        assert response.status_code == 200, response.content
    assert sorted(RefreshToken.objects.values_list("remember_me", flat=True)) == [False, True]


@pytest.mark.parametrize("value,expected", [("true", True), ("1", True), ("false", False)])
def test_form_bodies_keep_drfs_string_booleans(api, user, value, expected):
    response = api.post(
        "/api/auth/login",
        f"username=alice%40example.com&password={PASSWORD.replace(' ', '+')}&remember_me={value}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    assert RefreshToken.objects.get().remember_me is expected


def test_the_fields_on_their_own():
    class Body(serializers.Serializer):
        text = StrictCharField()
        flag = StrictBooleanField(required=False)

    assert Body(data={"text": "a", "flag": True}).is_valid()
    for bad in [{"text": 1}, {"text": None}, {"text": "a", "flag": "true"}, {"flag": 0}]:
        assert not Body(data=bad).is_valid(), bad
