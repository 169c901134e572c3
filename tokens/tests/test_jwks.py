"""GET /.well-known/jwks.json: the public keys that verify access tokens."""

import datetime as dt

import jwt
import pytest

from tokens import signing

pytestmark = pytest.mark.django_db


def test_jwks_is_empty_with_hs256_and_cacheable(api, settings):
    settings.TOKENS = {**settings.TOKENS, "JWKS_MAX_AGE": dt.timedelta(seconds=123)}
    response = api.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == {"keys": []}
    assert response["Cache-Control"] == "public, max-age=123"
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_jwks_publishes_the_keys_that_verify_our_tokens(api, settings, user, login, algorithm):
    settings.TOKENS = {
        **settings.TOKENS,
        "ACCESS_TOKEN_ALGORITHM": algorithm,
        "ACCESS_TOKEN_SIGNING_KEY": signing.generate_private_key(algorithm),
        "ACCESS_TOKEN_VERIFYING_KEYS": [signing.generate_private_key("ES256")],
    }
    token = login().json()["access_token"]
    response = api.get("/.well-known/jwks.json")
    assert response["Cache-Control"] == "public, max-age=300"
    jwks = jwt.PyJWKSet.from_dict(response.json())
    assert len(jwks.keys) == 2
    kid = jwt.get_unverified_header(token)["kid"]
    assert jwt.decode(token, jwks[kid], algorithms=[algorithm])["sid"]
    for published in response.json()["keys"]:
        assert set(published) >= {"kid", "alg", "use", "kty", "x"}
        assert "d" not in published


def test_jwks_refuses_other_methods_with_json(api):
    response = api.post("/.well-known/jwks.json")
    assert response.status_code == 405
    assert response.json() == {"detail": "METHOD_NOT_ALLOWED"}
