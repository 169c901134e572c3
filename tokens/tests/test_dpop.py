"""DPoP proofs (RFC 9449): every refusal of a proof, on login, refresh and a resource.

The binding of sessions to a key (what a bound session asks of each use) is in
tokens/tests/test_dpop_binding.py; an outside client in tokens/tests/test_dpop_outside.py.
"""

import time
import uuid
from datetime import timedelta

import jwt
import pytest
from django.core.cache import cache

from tokens import dpop
from tokens.errors import (
    DPOP_PROOF_EXPIRED,
    DPOP_PROOF_INVALID,
    DPOP_PROOF_REPLAYED,
    DPOP_PROOF_WRONG_REQUEST,
    DPOP_PROOF_WRONG_TOKEN,
)
from tokens.tests.dpop_keys import DpopKey
from tokens.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN, REFRESH, ME = "/api/auth/login", "/api/auth/refresh", "/api/users/me"
CHALLENGE = 'DPoP algs="ES256 EdDSA Ed25519", error="invalid_dpop_proof"'


@pytest.fixture
def key():
    return DpopKey()


def log_in(api, proof: str | None):
    headers = {"HTTP_DPOP": proof} if proof is not None else {}
    return api.post(
        LOGIN, {"email": "alice@example.com", "password": PASSWORD}, format="json", **headers
    )


def refused(response, code: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json() == {"detail": code}
    assert response["WWW-Authenticate"] == CHALLENGE


@pytest.fixture
def bound(api, user, key):
    """A session bound to ``key``: its login response."""
    response = log_in(api, key.proof("POST", LOGIN))
    assert response.status_code == 200, response.content
    return response


# -- a well-formed proof ------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_a_login_with_a_proof_is_bound_to_its_key(api, user, alg):
    key = DpopKey(alg)
    response = log_in(api, key.proof("POST", LOGIN))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "DPoP"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": key.jkt}
    token = body["access_token"]
    assert api.get(ME, **key.headers("GET", ME, token)).status_code == 200


def test_a_login_without_a_proof_is_the_bearer_login_of_the_contract(api, user):
    body = log_in(api, None).json()
    assert body["token_type"] == "bearer"
    assert "cnf" not in jwt.decode(body["access_token"], options={"verify_signature": False})


def test_the_thumbprint_is_rfc_7638s():
    # RFC 7638 section 3.1's example key and thumbprint (RSA there; the rule is the
    # same): here the P-256 key of RFC 9449 section 4.1's example proof.
    jwk = {
        "kty": "EC",
        "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
        "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
        "crv": "P-256",
    }
    assert dpop.thumbprint(jwk) == "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"


# -- refusals, on login (no token) ----------------------------------------------


def test_a_proof_for_another_method_is_refused(api, user, key):
    refused(log_in(api, key.proof("GET", LOGIN)), DPOP_PROOF_WRONG_REQUEST)


@pytest.mark.parametrize(
    "htu",
    [
        "http://testserver/api/auth/refresh",  # another endpoint
        "http://evil.example/api/auth/login",  # another host
        "https://testserver/api/auth/login",  # another scheme
        "http://testserver:8000/api/auth/login",  # another port
        "http://testserver/API/AUTH/LOGIN",  # paths are case-sensitive
        "http://testserver/api/auth/login/",
        "/api/auth/login",  # not absolute
        "http://user@testserver/api/auth/login",
    ],
)
def test_a_proof_for_another_uri_is_refused(api, user, key, htu):
    refused(log_in(api, key.proof("POST", LOGIN, htu=htu)), DPOP_PROOF_WRONG_REQUEST)


@pytest.mark.parametrize(
    "htu",
    [
        "HTTP://TESTSERVER/api/auth/login",  # scheme and host are case-insensitive
        "http://testserver:80/api/auth/login",  # the default port
        "http://testserver/api/auth/login?x=1#y",  # query and fragment are ignored
        "http://testserver/api/auth/%6cogin",  # an escaped unreserved character
    ],
)
def test_htu_is_compared_as_rfc_9449_says(api, user, key, htu):
    assert log_in(api, key.proof("POST", htu)).status_code == 200


@pytest.mark.parametrize("age", [-120, 120])
def test_a_proof_from_too_long_ago_or_the_future_is_refused(api, user, key, age):
    iat = int(time.time()) - age
    refused(log_in(api, key.proof("POST", LOGIN, iat=iat)), DPOP_PROOF_EXPIRED)


def test_the_window_is_a_setting(api, user, key, settings):
    settings.TOKENS = {**settings.TOKENS, "DPOP_PROOF_WINDOW": timedelta(0)}
    refused(log_in(api, key.proof("POST", LOGIN, iat=int(time.time()) - 5)), DPOP_PROOF_EXPIRED)


def test_a_replayed_proof_is_refused(api, user, key):
    proof = key.proof("POST", LOGIN)
    assert log_in(api, proof).status_code == 200
    refused(log_in(api, proof), DPOP_PROOF_REPLAYED)


def test_a_jti_is_remembered_for_twice_the_window(key):
    proof = key.proof("POST", LOGIN)
    dpop.verify(proof, method="POST", uri="http://testserver/api/auth/login")
    # LocMemCache's own bookkeeping: the key and its expiry.
    [stored] = [k for k in cache._cache if dpop._JTI_PREFIX in k]
    assert cache._expire_info[stored] - time.time() > 2 * 60


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused(api, user, key):
    other = DpopKey()
    refused(log_in(api, key.proof("POST", LOGIN, key=other.private)), DPOP_PROOF_INVALID)


@pytest.mark.parametrize(
    "header",
    [
        {"typ": "JWT"},
        {"typ": None},
        {"jwk": None},
        {"jwk": "not an object"},
    ],
)
def test_a_proof_without_its_header_is_refused(api, user, key, header):
    proof = key.proof("POST", LOGIN, header=header)
    assert jwt.get_unverified_header(proof).get("typ") != "dpop+jwt" or "jwk" in header
    refused(log_in(api, proof), DPOP_PROOF_INVALID)


def test_alg_none_is_refused(api, user, key):
    proof = jwt.encode(
        {"jti": "n", "htm": "POST", "htu": "http://testserver" + LOGIN, "iat": int(time.time())},
        None,
        algorithm="none",
        headers={"typ": "dpop+jwt", "jwk": key.jwk},
    )
    refused(log_in(api, proof), DPOP_PROOF_INVALID)


def test_hs256_is_refused(api, user, key):
    secret = b"k" * 32
    oct_jwk = {"kty": "oct", "k": dpop.b64url(secret)}
    proof = key.proof("POST", LOGIN, header={"alg": "HS256", "jwk": oct_jwk}, key=secret)
    refused(log_in(api, proof), DPOP_PROOF_INVALID)
    # and with the client's own public key as the HMAC secret (key confusion)
    proof = key.proof("POST", LOGIN, header={"alg": "HS256"}, key=key.jwk["x"].encode())
    refused(log_in(api, proof), DPOP_PROOF_INVALID)


def test_a_jwk_with_its_private_key_is_refused(api, user, key):
    proof = key.proof("POST", LOGIN, header={"jwk": key.private_jwk})
    refused(log_in(api, proof), DPOP_PROOF_INVALID)


def test_a_key_of_another_curve_is_refused(api, user):
    ed = DpopKey("EdDSA")
    # an Ed25519 key that claims ES256
    proof = ed.proof("POST", LOGIN, header={"alg": "ES256"}, key=DpopKey().private)
    refused(log_in(api, proof), DPOP_PROOF_INVALID)


@pytest.mark.parametrize("missing", ["jti", "htm", "htu", "iat"])
def test_a_proof_without_a_claim_is_refused(api, user, key, missing):
    refused(log_in(api, key.proof("POST", LOGIN, **{missing: None})), DPOP_PROOF_INVALID)


@pytest.mark.parametrize("garbage", ["", "a.b.c", "x" * 5000, "é.é.é", "e30.e30.", "[[[[" * 100])
def test_garbage_is_refused_with_a_code(api, user, garbage):
    response = log_in(api, garbage)
    refused(response, DPOP_PROOF_INVALID)


def test_a_refused_proof_spends_no_password_check(api, user, key, password_checks):
    refused(log_in(api, key.proof("GET", LOGIN)), DPOP_PROOF_WRONG_REQUEST)
    assert password_checks == []


# -- refusals with a token --------------------------------------------------------


def test_a_proof_with_the_hash_of_another_token_is_refused(api, user, key, bound):
    token = bound.json()["access_token"]
    other = key.proof("POST", LOGIN)
    second = log_in(api, other).json()["access_token"]
    headers = key.headers("GET", ME, token)
    headers["HTTP_DPOP"] = key.proof("GET", ME, second)
    refused(api.get(ME, **headers), DPOP_PROOF_WRONG_TOKEN)
    # and without any ath
    headers["HTTP_DPOP"] = key.proof("GET", ME)
    refused(api.get(ME, **headers), DPOP_PROOF_WRONG_TOKEN)


def test_a_proof_for_a_resource_is_refused_at_another(api, user, key, bound):
    token = bound.json()["access_token"]
    headers = key.headers("GET", "/api/auth/sessions", token)
    refused(api.get(ME, **headers), DPOP_PROOF_WRONG_REQUEST)


def test_a_replayed_proof_with_its_token_is_refused(api, user, key, bound):
    token = bound.json()["access_token"]
    headers = key.headers("GET", ME, token)
    assert api.get(ME, **headers).status_code == 200
    refused(api.get(ME, **headers), DPOP_PROOF_REPLAYED)


def test_a_refresh_proof_is_checked_too(api, user, key, bound):
    refused(api.post(REFRESH, HTTP_DPOP=key.proof("POST", ME)), DPOP_PROOF_WRONG_REQUEST)
    response = api.post(REFRESH, HTTP_DPOP=key.proof("POST", REFRESH))
    assert response.status_code == 200
    assert response.json()["token_type"] == "DPoP"


# -- found by the attack pass: each answered 500 or let a stale proof through ---------


def test_an_iat_that_is_not_a_finite_number_is_refused(api, user, key):
    """Python's json reads NaN: a proof with ``"iat": NaN`` passed the window check
    (every comparison with NaN is false), a proof good forever, replayable each time its
    jti left the cache."""
    payload = '{"jti":"%s","htm":"POST","htu":"http://testserver%s","iat":NaN}'
    for iat in ("NaN", "Infinity", "-Infinity", "1e400", str(10**400)):
        proof = jwt.api_jws.encode(
            (payload.replace("NaN", iat) % (uuid.uuid4(), LOGIN)).encode(),
            key.private,
            algorithm="ES256",
            headers={"typ": "dpop+jwt", "jwk": key.jwk},
        )
        response = log_in(api, proof)
        assert response.status_code == 401, iat
        assert response.json()["detail"] in (DPOP_PROOF_INVALID, DPOP_PROOF_EXPIRED), iat


def test_a_jwk_that_is_not_a_point_on_the_curve_is_refused(api, user, key):
    off_curve = {**key.jwk, "y": key.jwk["x"]}
    refused(log_in(api, key.proof("POST", LOGIN, header={"jwk": off_curve})), DPOP_PROOF_INVALID)
