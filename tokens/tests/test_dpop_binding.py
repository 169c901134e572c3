"""Sessions bound to a DPoP key (RFC 9449): a login with a proof binds its session, and
then every refresh and every access token of it needs a proof by that key."""

import jwt
import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tokens.errors import (
    ACCESS_TOKEN_INVALID,
    DPOP_KEY_MISMATCH,
    DPOP_PROOF_REQUIRED,
    REFRESH_TOKEN_INVALID,
)
from tokens.models import RefreshToken, RevokeReason
from tokens.tests.dpop_keys import DpopKey
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN, REFRESH, ME = "/api/auth/login", "/api/auth/refresh", "/api/users/me"
INVALID_TOKEN = 'DPoP algs="ES256 EdDSA Ed25519", error="invalid_token"'


@pytest.fixture
def key():
    return DpopKey()


@pytest.fixture
def alice(user):
    user.email = "alice@example.com"  # where the security emails go
    user.save()
    return user


def log_in(client, key: DpopKey | None = None):
    headers = {"HTTP_DPOP": key.proof("POST", LOGIN)} if key is not None else {}
    response = client.post(
        LOGIN, {"email": "alice@example.com", "password": PASSWORD}, format="json", **headers
    )
    assert response.status_code == 200, response.content
    return response


def refresh(client, key: DpopKey | None = None):
    headers = {"HTTP_DPOP": key.proof("POST", REFRESH)} if key is not None else {}
    return client.post(REFRESH, **headers)


def access(response) -> str:
    return response.json()["access_token"]


def session() -> RefreshToken:
    return RefreshToken.objects.get()


def test_the_session_stores_the_thumbprint(api, alice, key):
    log_in(api, key)
    assert session().dpop_jkt == key.jkt


def test_a_bound_refresh_with_the_key_is_bound_too(api, alice, key):
    log_in(api, key)
    response = refresh(api, key)
    assert response.status_code == 200
    assert response.json()["token_type"] == "DPoP"
    claims = jwt.decode(access(response), options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": key.jkt}
    assert api.get(ME, **key.headers("GET", ME, access(response))).status_code == 200


def test_a_bound_refresh_without_a_proof_is_refused_and_the_session_lives(api, alice, key):
    log_in(api, key)
    cookie = api.cookies["refresh_token"].value
    for _ in range(5):  # as often as a thief likes: nothing for them, nothing lost
        response = refresh(api)
        assert response.status_code == 401
        assert response.json() == {"detail": DPOP_PROOF_REQUIRED}
        assert response["WWW-Authenticate"] == INVALID_TOKEN
        assert "refresh_token" not in response.cookies  # the cookie is kept
    assert api.cookies["refresh_token"].value == cookie
    assert session().revoked_at is None
    assert refresh(api, key).status_code == 200  # the owner's next proof works


def test_a_bound_refresh_with_another_key_revokes_the_session(
    api, alice, key, mailoutbox, django_capture_on_commit_callbacks
):
    log_in(api, key)
    cookie = api.cookies["refresh_token"].value
    thief = APIClient()
    thief.cookies["refresh_token"] = cookie
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = refresh(thief, DpopKey())
    assert response.status_code == 401
    assert response.json() == {"detail": REFRESH_TOKEN_INVALID}
    assert session().revoke_reason == RevokeReason.DPOP_KEY
    assert [m.subject for m in mailoutbox] == [
        "Security alert: a session of your account was ended"
    ]
    assert refresh(api, key).status_code == 401  # the session is over for everyone


def test_the_reuse_interval_asks_for_the_key_too(api, alice, key):
    with time_machine.travel(timezone.now(), tick=False):
        log_in(api, key)
        first = api.cookies["refresh_token"].value
        assert refresh(api, key).status_code == 200
        retry = APIClient()
        retry.cookies["refresh_token"] = first
        assert refresh(retry).json() == {"detail": DPOP_PROOF_REQUIRED}
        assert refresh(retry, key).status_code == 200  # same successor, with the key
        assert refresh(retry, DpopKey()).status_code == 401
        assert session().revoke_reason == RevokeReason.DPOP_KEY


def test_an_unbound_session_refreshes_as_before_proof_or_not(api, alice, key):
    log_in(api)
    assert refresh(api).json()["token_type"] == "bearer"
    # a proof on an unbound session binds nothing: the session was opened without one
    response = refresh(api, key)
    assert response.json()["token_type"] == "bearer"
    assert session().dpop_jkt == ""


# -- access tokens -------------------------------------------------------------------


def test_a_bound_token_sent_as_bearer_is_refused(api, alice, key):
    token = access(log_in(api, key))
    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json() == {"detail": DPOP_PROOF_REQUIRED}
    assert response["WWW-Authenticate"] == INVALID_TOKEN
    # with its proof beside it, too: a bound token is DPoP's
    response = api.get(
        ME, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_DPOP=key.proof("GET", ME, token)
    )
    assert response.json() == {"detail": DPOP_PROOF_REQUIRED}


def test_a_bound_token_without_a_proof_is_refused(api, alice, key):
    token = access(log_in(api, key))
    response = api.get(ME, HTTP_AUTHORIZATION=f"DPoP {token}")
    assert response.json() == {"detail": DPOP_PROOF_REQUIRED}


def test_a_bound_token_with_another_keys_proof_is_refused(api, alice, key):
    token = access(log_in(api, key))
    response = api.get(ME, **DpopKey().headers("GET", ME, token))
    assert response.status_code == 401
    assert response.json() == {"detail": DPOP_KEY_MISMATCH}
    assert response["WWW-Authenticate"] == INVALID_TOKEN


def test_the_scheme_is_case_insensitive(api, alice, key):
    token = access(log_in(api, key))
    headers = key.headers("GET", ME, token)
    headers["HTTP_AUTHORIZATION"] = f"dpop {token}"
    assert api.get(ME, **headers).status_code == 200


def test_an_unbound_token_is_not_a_dpop_token(api, alice, key):
    token = access(log_in(api))
    response = api.get(ME, **key.headers("GET", ME, token))
    assert response.status_code == 401
    assert response.json() == {"detail": ACCESS_TOKEN_INVALID}
    assert response["WWW-Authenticate"] == INVALID_TOKEN


def test_an_unbound_token_ignores_a_stray_proof(api, alice, key):
    token = access(log_in(api))
    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_DPOP="garbage")
    assert response.status_code == 200


def test_a_token_whose_key_is_not_its_sessions_is_refused(api, alice, key):
    """The session's key is read with the session: a token is held to it even if the
    two ever disagree (here, a session bound after the token was issued)."""
    token = access(log_in(api))
    RefreshToken.objects.update(dpop_jkt=key.jkt)
    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json() == {"detail": ACCESS_TOKEN_INVALID}
    bound = access(log_in(api, key))
    RefreshToken.objects.update(dpop_jkt=DpopKey().jkt)
    assert api.get(ME, **key.headers("GET", ME, bound)).json() == {"detail": ACCESS_TOKEN_INVALID}


def test_reauthenticate_keeps_the_binding(api, alice, key):
    token = access(log_in(api, key))
    url = "/api/auth/reauthenticate"
    response = api.post(
        url, {"password": PASSWORD}, format="json", **key.headers("POST", url, token)
    )
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"
    fresh = access(response)
    assert jwt.decode(fresh, options={"verify_signature": False})["cnf"] == {"jkt": key.jkt}
    assert api.get(ME, **key.headers("GET", ME, fresh)).status_code == 200


def test_logout_all_with_a_bound_token(api, alice, key):
    token = access(log_in(api, key))
    url = "/api/auth/logout-all"
    assert api.post(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert api.post(url, **key.headers("POST", url, token)).json()["revoked"] == 1


# -- DPOP_REQUIRED -----------------------------------------------------------------


@pytest.fixture
def required(settings):
    settings.TOKENS = {**settings.TOKENS, "DPOP_REQUIRED": True}


def test_required_refuses_a_login_without_a_proof(api, alice, password_checks, required):
    response = api.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": DPOP_PROOF_REQUIRED}
    assert password_checks == []


def test_required_refuses_the_sessions_opened_without_one(api, alice, key, settings):
    token = access(log_in(api))
    settings.TOKENS = {**settings.TOKENS, "DPOP_REQUIRED": True}
    assert api.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}").json() == {
        "detail": DPOP_PROOF_REQUIRED
    }
    assert refresh(api).json() == {"detail": DPOP_PROOF_REQUIRED}
    assert refresh(api, key).json() == {"detail": DPOP_PROOF_REQUIRED}
    assert session().revoked_at is None


def test_required_serves_bound_sessions(api, alice, key, required):
    response = refresh(APIClient(), key)
    assert response.json() == {"detail": "REFRESH_TOKEN_MISSING"}
    token = access(log_in(api, key))
    assert api.get(ME, **key.headers("GET", ME, token)).status_code == 200
    assert refresh(api, key).status_code == 200


# -- introspection (RFC 9449 section 6.2) ---------------------------------------------


def test_introspection_names_the_key_of_a_bound_token(api, alice, key, settings):
    settings.TOKENS = {**settings.TOKENS, "INTROSPECTION_CLIENTS": {"billing": "s" * 40}}
    bound, plain = access(log_in(api, key)), access(log_in(APIClient()))

    def introspect(token):
        return (
            APIClient()
            .post(
                "/api/auth/introspect",
                {"token": token, "client_id": "billing", "client_secret": "s" * 40},
            )
            .json()
        )

    answer = introspect(bound)
    assert answer["active"] is True
    assert answer["cnf"] == {"jkt": key.jkt}
    assert answer["token_type"] == "DPoP"
    answer = introspect(plain)
    assert "cnf" not in answer and answer["token_type"] == "bearer"
