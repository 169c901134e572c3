import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from tokens.models import RefreshToken
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db


def set_cookie_header(response, name="refresh_token") -> str:
    return response.cookies[name].output(header="").strip()


def cookie_attributes(response, name="refresh_token") -> dict:
    """The Set-Cookie attributes as a browser reads them (lower-cased names)."""
    parts = [p.strip() for p in set_cookie_header(response, name).split(";")]
    attributes = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        attributes[key.lower()] = value
    return attributes


def test_json_login_returns_the_access_token_body(api, user, login):
    response = login()
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    access = AccessToken(body["access_token"])
    assert access["user_id"] == str(user.id)
    assert access["sid"] == str(RefreshToken.objects.get().id)
    assert access["exp"] - access["iat"] == 3600


def test_refresh_cookie_has_exactly_the_contract_attributes(api, user, login):
    attributes = cookie_attributes(login())
    assert attributes.pop("expires").endswith("GMT")  # Django adds Expires beside Max-Age
    assert attributes == {
        "httponly": "",
        "max-age": "604800",
        "path": "/api/auth",
        "samesite": "Lax",
    }


def test_secure_and_samesite_come_from_settings(api, user, login, settings):
    settings.TOKENS = {
        **settings.TOKENS,
        "REFRESH_TOKEN_COOKIE_SECURE": True,
        "REFRESH_TOKEN_COOKIE_SAMESITE": "Strict",
    }
    attributes = cookie_attributes(login())
    assert "secure" in attributes
    assert attributes["samesite"] == "Strict"


def test_cookie_name_comes_from_settings(api, user, login, settings):
    settings.TOKENS = {
        **settings.TOKENS,
        "REFRESH_TOKEN_COOKIE_NAME": "__Secure-refresh_token",
        "REFRESH_TOKEN_COOKIE_SECURE": True,
    }
    response = login()
    assert "__Secure-refresh_token" in response.cookies
    assert "refresh_token" not in response.cookies


def test_remember_me_gets_the_long_idle_lifetime(api, user, login):
    response = login(remember_me=True)
    assert cookie_attributes(response)["max-age"] == "2592000"
    assert RefreshToken.objects.get().remember_me is True


def test_oauth2_password_form_is_accepted(api, user):
    response = api.post(
        "/api/auth/login",
        f"username=alice%40example.com&password={PASSWORD.replace(' ', '+')}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    assert "refresh_token" in response.cookies


def test_token_responses_are_not_cached(api, user, login):
    response = login()
    assert response["Cache-Control"] == "no-store"


def test_login_records_one_session_with_client_details(api, user):
    api.post(
        "/api/auth/login",
        {"email": "alice@example.com", "password": PASSWORD},
        format="json",
        HTTP_USER_AGENT="Firefox/1" + "x" * 1000,
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    session = RefreshToken.objects.get()
    assert session.user == user
    assert session.generation == 1
    assert session.ip_address == "203.0.113.9"  # X-Forwarded-For is not trusted by default
    assert session.user_agent.startswith("Firefox/1") and len(session.user_agent) == 512
    assert session.revoked_at is None


@pytest.mark.parametrize(
    "email,password",
    [
        ("nobody@example.com", PASSWORD),
        ("alice@example.com", "wrong password"),
        ("bob@example.com", PASSWORD),  # inactive
    ],
)
def test_bad_credentials_look_the_same(api, user, make_user, email, password):
    make_user(email="bob@example.com", is_active=False)
    response = api.post("/api/auth/login", {"email": email, "password": password}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "LOGIN_BAD_CREDENTIALS"}
    assert "refresh_token" not in response.cookies
    assert not RefreshToken.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "alice@example.com"}, {"password": PASSWORD}, {"email": "", "password": ""}],
)
def test_missing_fields_are_field_errors(api, user, body):
    response = api.post("/api/auth/login", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"email", "password"}
    assert response.json()


def test_nothing_token_like_is_stored(api, user, login):
    """A copy of the database yields no refresh token nor a digest of one."""
    import hashlib

    response = login()
    token = response.cookies["refresh_token"].value
    digests = {
        hashlib.sha256(token.encode()).hexdigest(),
        hashlib.sha512(token.encode()).hexdigest(),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tokens_refreshtoken")
        row = [str(value) for value in cursor.fetchone()]
    for value in row:
        assert token not in value and value not in (token, *digests)
        assert token[:20] not in value
