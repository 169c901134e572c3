"""Server nonces (RFC 9449 section 8), off by default: with DPOP_NONCE_LIFETIME set,
every proof must carry the nonce the server hands out in DPoP-Nonce."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tokens.errors import DPOP_NONCE_REQUIRED
from tokens.tests.dpop_keys import DpopKey
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN, SESSIONS = "/api/auth/login", "/api/auth/sessions"
BODY = {"email": "alice@example.com", "password": PASSWORD}


@pytest.fixture
def nonces(settings):
    settings.TOKENS = {**settings.TOKENS, "DPOP_NONCE_LIFETIME": timedelta(minutes=5)}


def test_off_by_default_no_nonce_is_asked_or_given(api, user):
    key = DpopKey()
    response = api.post(LOGIN, BODY, format="json", HTTP_DPOP=key.proof("POST", LOGIN))
    assert response.status_code == 200
    assert "DPoP-Nonce" not in response


def test_a_proof_without_the_nonce_is_answered_with_it(api, user, nonces, password_checks):
    key = DpopKey()
    response = api.post(LOGIN, BODY, format="json", HTTP_DPOP=key.proof("POST", LOGIN))
    assert response.status_code == 401
    assert response.json() == {"detail": DPOP_NONCE_REQUIRED}
    assert response["WWW-Authenticate"] == (
        'DPoP algs="ES256 EdDSA Ed25519", error="use_dpop_nonce"'
    )
    assert password_checks == []
    nonce = response["DPoP-Nonce"]
    response = api.post(LOGIN, BODY, format="json", HTTP_DPOP=key.proof("POST", LOGIN, nonce=nonce))
    assert response.status_code == 200
    assert response["DPoP-Nonce"] == nonce  # the token responses hand it out too
    token = response.json()["access_token"]
    headers = key.headers("GET", SESSIONS, token, nonce=nonce)
    assert api.get(SESSIONS, **headers).status_code == 200
    wrong = key.headers("GET", SESSIONS, token, nonce=nonce[:-2] + "AA")
    response = api.get(SESSIONS, **wrong)
    assert (response.status_code, response.json()) == (401, {"detail": DPOP_NONCE_REQUIRED})
    assert response["DPoP-Nonce"] == nonce


def test_a_nonce_lasts_its_period_and_the_next(api, user, nonces):
    key = DpopKey()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        nonce = api.post(LOGIN, BODY, format="json", HTTP_DPOP=key.proof("POST", LOGIN))[
            "DPoP-Nonce"
        ]
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        proof = key.proof("POST", LOGIN, nonce=nonce)
        assert api.post(LOGIN, BODY, format="json", HTTP_DPOP=proof).status_code == 200
    with time_machine.travel(start + timedelta(minutes=10, seconds=1), tick=False):
        proof = key.proof("POST", LOGIN, nonce=nonce)
        response = api.post(LOGIN, BODY, format="json", HTTP_DPOP=proof)
        assert response.json() == {"detail": DPOP_NONCE_REQUIRED}
        assert response["DPoP-Nonce"] != nonce
