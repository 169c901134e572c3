"""Clients we did not write, against a live server: the bearer scheme and its challenge
(openid-client), introspection client authentication in its three forms (requests,
authlib, openid-client), and the JWKS (PyJWT's PyJWKClient, jose)."""

import base64
import secrets

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from authsite import testing
from authsite.tests.interop.conftest import register_and_login
from tokens import signing
from tokens.errors import NOT_AUTHENTICATED

pytestmark = pytest.mark.slow

ISSUER = "https://auth.example.test"
AUDIENCE = "billing-api"
CLIENT_ID = "billing"


def base64_secret() -> str:
    """A secret as ``openssl rand -base64 32`` makes one, with ``+``, ``/`` and ``=``:
    what a raw and a form-encoded Basic header spell differently."""
    while True:
        secret = base64.b64encode(secrets.token_bytes(32)).decode()
        if "+" in secret and "/" in secret:
            return secret


SECRET = base64_secret()


@pytest.fixture(scope="module")
def server(live_database, live_workdir):
    env = testing.base_env(
        DATABASE_URL=live_database.url(),
        ACCESS_TOKEN_ALGORITHM="ES256",
        ACCESS_TOKEN_SIGNING_KEY=signing.generate_private_key("ES256"),
        ACCESS_TOKEN_ISSUER=ISSUER,
        ACCESS_TOKEN_AUDIENCE=AUDIENCE,
        INTROSPECTION_CLIENTS=f"{CLIENT_ID}:{SECRET},reports:{base64_secret()}",
        RATE_LIMIT_LOGIN="1000/m",
    )
    server = testing.start_server(env, live_workdir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token_response(server) -> dict:
    return register_and_login(server.url)


@pytest.fixture
def access(token_response) -> str:
    return token_response["access_token"]


def broken(token: str) -> str:
    head, body, signature = token.split(".")
    return f"{head}.{body}.{signature[:-4]}AAAA"


# The bearer scheme (RFC 6750, RFC 9110 section 11.1).


def test_openid_client_v5_sends_bearer_in_lower_case_and_is_served(node, server, token_response):
    """openid-client v5 names the scheme by the token response's token_type, which is
    "bearer" (RFC 6749 section 7.1): a scheme is case-insensitive, so it is served."""
    answer = node(
        "resourceV5",
        issuer=server.url,
        url=f"{server.url}/api/users/me",
        tokenResponse=token_response,
    )
    assert answer["ok"], answer
    assert answer["result"]["scheme"] == "bearer"
    assert answer["result"]["status"] == 200, answer
    assert answer["result"]["body"]["email"] == "ada@example.com"


def test_openid_client_reads_invalid_token_from_the_challenge(node, server, access):
    answer = node(
        "resource", issuer=server.url, url=f"{server.url}/api/users/me", token=broken(access)
    )
    assert not answer["ok"]
    error = answer["error"]
    assert error["name"] == "WWWAuthenticateChallengeError", error
    assert error["status"] == 401
    assert [(c["scheme"], c["parameters"]) for c in error["challenges"]] == [
        ("bearer", {"realm": "api", "error": "invalid_token"})
    ]


def test_a_request_without_credentials_gets_the_challenge_without_an_error(server):
    response = requests.get(f"{server.url}/api/users/me", timeout=30)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


# Introspection: client authentication in the three forms clients send.


def authlib_session(method: str, secret: str = SECRET) -> OAuth2Session:
    return OAuth2Session(
        client_id=CLIENT_ID, client_secret=secret, token_endpoint_auth_method=method
    )


def active_claims(server, access: str) -> dict:
    claims = jwt.decode(access, options={"verify_signature": False})
    return {
        "active": True,
        "sub": claims["user_id"],
        "sid": claims["sid"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": claims["exp"],
        "iat": claims["iat"],
        "jti": claims["jti"],
        "auth_time": claims["auth_time"],
        "token_type": "bearer",
    }


def openid_client_introspection(node, server, access: str, **request) -> dict:
    """openid-client's tokenIntrospection as billing, with ``request``'s changes."""
    return node(
        "introspect",
        **{
            "issuer": server.url,
            "endpoint": f"{server.url}/api/auth/introspect",
            "clientId": CLIENT_ID,
            "secret": SECRET,
            "token": access,
            **request,
        },
    )


@pytest.mark.parametrize("method", ["post", "basic"])
def test_openid_client_introspects(node, server, access, method):
    """openid-client's default is client_secret_post; its client_secret_basic
    form-encodes the id and the secret (RFC 6749 section 2.3.1)."""
    answer = openid_client_introspection(node, server, access, method=method)
    assert answer["ok"], answer
    assert answer["result"] == active_claims(server, access)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_introspects(server, access, method):
    """authlib's client_secret_basic sends the id and the secret raw, unencoded."""
    response = authlib_session(method).introspect_token(
        f"{server.url}/api/auth/introspect", token=access
    )
    assert response.status_code == 200, response.text
    assert response.json() == active_claims(server, access)


def test_requests_basic_auth_sends_the_secret_raw_as_curl_u_does(server, access):
    response = requests.post(
        f"{server.url}/api/auth/introspect",
        data={"token": access},
        auth=(CLIENT_ID, SECRET),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json() == active_claims(server, access)


@pytest.mark.parametrize("method", ["post", "basic"])
def test_openid_client_sees_a_wrong_secret_refused_with_the_basic_challenge(
    node, server, access, method
):
    answer = openid_client_introspection(
        node, server, access, method=method, secret=base64_secret()
    )
    assert not answer["ok"]
    error = answer["error"]
    assert error["name"] == "WWWAuthenticateChallengeError", error
    assert error["status"] == 401
    assert [c["scheme"] for c in error["challenges"]] == ["basic"]


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_wrong_secret_is_an_rfc_6749_invalid_client_body(server, access, method):
    response = authlib_session(method, secret=base64_secret()).introspect_token(
        f"{server.url}/api/auth/introspect", token=access
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "detail": NOT_AUTHENTICATED}
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_openid_client_reads_invalid_request_from_a_400(node, server, access):
    answer = openid_client_introspection(
        node,
        server,
        access,
        method="post",
        parameters={"token_type_hint": "x" * 65},  # longer than any hint we take
    )
    assert not answer["ok"]
    assert answer["error"]["name"] == "ResponseBodyError", answer
    assert answer["error"]["status"] == 400
    assert answer["error"]["error"] == "invalid_request"


# The JWKS: the keys that verify access tokens, for clients of any library.


def test_pyjwt_jwk_client_verifies_our_tokens(server, access):
    keys = jwt.PyJWKClient(f"{server.url}/.well-known/jwks.json")
    key = keys.get_signing_key_from_jwt(access)
    claims = jwt.decode(access, key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["sid"]


def test_jose_verifies_our_tokens_with_the_remote_key_set(node, server, access):
    answer = node(
        "verify",
        jwksUrl=f"{server.url}/.well-known/jwks.json",
        token=access,
        algorithms=["ES256"],
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    assert answer["ok"], answer
    assert answer["result"]["protectedHeader"]["alg"] == "ES256"
    assert answer["result"]["payload"]["aud"] == AUDIENCE


def test_jose_verifies_eddsa_tokens_which_are_ed25519(node, live_database, live_workdir):
    """EdDSA means Ed25519 (an Ed448 key stops start-up: tokens/tests/test_signing.py,
    authsite/tests/test_signing_settings.py): jose verifies every token it signs."""
    env = testing.base_env(
        DATABASE_URL=live_database.url(),
        ACCESS_TOKEN_ALGORITHM="EdDSA",
        ACCESS_TOKEN_SIGNING_KEY=signing.generate_private_key("EdDSA"),
    )
    server = testing.start_server(env, live_workdir)
    try:
        access = register_and_login(server.url)["access_token"]
        jwks_url = f"{server.url}/.well-known/jwks.json"
        answer = node("verify", jwksUrl=jwks_url, token=access, algorithms=["EdDSA"])
        assert answer["ok"], answer
        assert answer["result"]["protectedHeader"]["alg"] == "EdDSA"
        (key,) = requests.get(jwks_url, timeout=30).json()["keys"]
        assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
    finally:
        server.stop()
