"""POST /api/auth/introspect (RFC 7662): a service's view of an access token, with
revocation seen at once."""

import base64
import datetime as dt
import hashlib
from urllib.parse import quote_plus, urlencode

import jwt
import pytest
import time_machine
from rest_framework.test import APIClient

from tokens import authentication, signing
from tokens.access import AccessToken
from tokens.errors import MALFORMED_BODY, NOT_AUTHENTICATED, RATE_LIMITED

pytestmark = pytest.mark.django_db

URL = "/api/auth/introspect"
SECRET = "s3cret-of-the-billing-service-0123456789"
INACTIVE = {"active": False}
# RFC 6749 section 5.2's error, with our code next to it.
INVALID_CLIENT = {"error": "invalid_client", "detail": NOT_AUTHENTICATED}


@pytest.fixture(autouse=True)
def _clients(settings):
    settings.TOKENS = {
        **settings.TOKENS,
        "INTROSPECTION_CLIENTS": {"billing": SECRET, "reports": "r" * 40},
    }


def basic(client_id: str = "billing", secret: str = SECRET) -> dict:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {encoded}"}


def introspect(token: str, *, json: bool = False, **headers):
    client = APIClient()
    headers = headers or basic()
    if json:
        return client.post(URL, {"token": token}, format="json", **headers)
    # RFC 7662's own encoding: a form.
    return client.post(
        URL, f"token={token}", content_type="application/x-www-form-urlencoded", **headers
    )


@pytest.fixture
def access(user, login) -> str:
    return login().json()["access_token"]


def test_a_live_token_is_active_with_its_claims(access, user):
    response = introspect(access)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    claims = AccessToken(access)
    assert body == {
        "active": True,
        "sub": str(user.pk),
        "sid": claims["sid"],
        "exp": claims["exp"],
        "iat": claims["iat"],
        "jti": claims["jti"],
        "auth_time": claims["auth_time"],
        "token_type": "bearer",
    }


def test_the_active_answer_carries_iss_and_aud_when_set(monkeypatch, user, login):
    # On simplejwt's settings object, as tokens/tests/test_signing.py explains.
    from tokens.access import api_settings

    monkeypatch.setattr(api_settings, "ISSUER", "https://auth.example.com")
    monkeypatch.setattr(api_settings, "AUDIENCE", "billing-api")
    body = introspect(login().json()["access_token"]).json()
    assert body["active"] is True
    assert (body["iss"], body["aud"]) == ("https://auth.example.com", "billing-api")


def test_json_bodies_are_accepted_too(access):
    assert introspect(access, json=True).json()["active"] is True


def test_logout_makes_the_token_inactive_at_once(api, access, bearer):
    assert introspect(access).json()["active"] is True
    assert api.post("/api/auth/logout", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    assert introspect(access).json() == INACTIVE


def test_a_password_change_makes_other_sessions_tokens_inactive(access, user):
    user.set_password("an entirely new passphrase")
    user.save()
    assert introspect(access).json() == INACTIVE


def test_an_inactive_user_has_no_active_token(access, user):
    user.is_active = False
    user.save()
    assert introspect(access).json() == INACTIVE


def test_an_expired_token_is_inactive(access):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        assert introspect(access).json() == INACTIVE


@pytest.mark.parametrize("mangle", ["tamper", "refresh", "garbage", "empty", "foreign"])
def test_anything_but_a_live_access_token_is_exactly_inactive(api, access, login, mangle):
    if mangle == "tamper":
        head, body, signature = access.split(".")
        token = f"{head}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{signature}"
    elif mangle == "refresh":
        token = login().cookies["refresh_token"].value
    elif mangle == "garbage":
        token = "x" * 5000
    elif mangle == "empty":
        token = ""
    else:  # signed with a key that is not ours
        claims = jwt.decode(access, options={"verify_signature": False})
        token = jwt.encode(claims, "another-secret-entirely-0123456789abcdef", algorithm="HS256")
    assert introspect(token).json() == INACTIVE


def test_es256_tokens_introspect_and_rotate(settings, user, login):
    first = signing.generate_private_key("ES256")
    settings.TOKENS = {
        **settings.TOKENS,
        "ACCESS_TOKEN_ALGORITHM": "ES256",
        "ACCESS_TOKEN_SIGNING_KEY": first,
    }
    old = login().json()["access_token"]
    settings.TOKENS = {
        **settings.TOKENS,
        "ACCESS_TOKEN_SIGNING_KEY": signing.generate_private_key("ES256"),
        "ACCESS_TOKEN_VERIFYING_KEYS": [first],
    }
    new = login(client=APIClient()).json()["access_token"]
    assert introspect(old).json()["active"] is True
    assert introspect(new).json()["active"] is True
    settings.TOKENS = {**settings.TOKENS, "ACCESS_TOKEN_VERIFYING_KEYS": []}
    assert introspect(old).json() == INACTIVE


def test_no_credentials_is_401_with_a_basic_challenge(access):
    response = post_form(token=access)
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT
    assert response["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize(
    "headers",
    [
        basic(secret=SECRET[:-1] + "X"),
        basic(secret=""),
        basic(client_id="nobody"),
        basic(client_id="reports", secret=SECRET),  # another client's secret
        {"HTTP_AUTHORIZATION": "Basic not-base64!"},
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"\xff\xfe:x").decode()},
    ],
)
def test_wrong_credentials_are_401_not_authenticated(access, headers):
    response = introspect(access, **headers)
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_a_users_bearer_token_is_not_a_service_credential(access):
    response = introspect(access, HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


def test_no_clients_configured_means_no_one_may_introspect(settings, access):
    settings.TOKENS = {**settings.TOKENS, "INTROSPECTION_CLIENTS": {}}
    assert introspect(access).status_code == 401


def test_form_encoded_credentials_are_decoded(settings, access):
    """RFC 6749 section 2.3.1: id and secret are form-encoded before Basic encoding."""
    settings.TOKENS = {
        **settings.TOKENS,
        "INTROSPECTION_CLIENTS": {"billing": "a secret:with+odd/chars%and-more-than-32"},
    }
    encoded = "a+secret%3Awith%2Bodd%2Fchars%25and-more-than-32"
    assert introspect(access, **basic(secret=encoded)).json()["active"] is True


def test_a_missing_token_is_a_400_field_error(access):
    response = APIClient().post(URL, {}, format="json", **basic())
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "token": ["This field is required."]}


def test_a_malformed_body_is_invalid_request(access):
    """The body may hold the credentials (client_secret_post): it is read before they
    are checked, and a body that cannot be read is answered as such."""
    response = APIClient().post(URL, "{", content_type="application/json", **basic())
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "detail": MALFORMED_BODY}


def test_guesses_at_a_secret_spend_the_rate_limit(settings, access):
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_INTROSPECTION": "3/m"}
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), tick=False):
        for _ in range(3):
            assert introspect(access, **basic(secret="guess" * 8)).status_code == 401
        refused = introspect(access)  # the right secret, too late
        assert refused.status_code == 429
        assert refused.json() == {"detail": RATE_LIMITED}
        assert int(refused["Retry-After"]) >= 1


def test_a_header_nested_beyond_the_json_parsers_depth_is_inactive_not_a_500(access):
    deep = b"[" * 100_000 + b"]" * 100_000
    token = f"{base64.urlsafe_b64encode(deep).rstrip(b'=').decode()}.e30.c2ln"
    response = introspect(token, json=True)
    assert response.status_code == 200
    assert response.json() == INACTIVE
    bearer = APIClient().get("/api/auth/sessions", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert bearer.status_code == 401


@pytest.mark.parametrize(
    ("client_id", "secret", "logged"),
    [
        ("billing", "not-the-secret", "billing"),
        ("nobody", SECRET, "unknown"),
        # A made-up id is never written as sent: it could forge a log line.
        ("evil\nsession_created user_id=1", SECRET, "unknown"),
    ],
    ids=["wrong secret", "unknown id", "injected id"],
)
def test_refused_service_credentials_go_to_the_security_log(
    access, caplog, client_id, secret, logged
):
    with caplog.at_level("WARNING", logger="security"):
        assert introspect(access, **basic(client_id, secret)).status_code == 401
    (record,) = [r for r in caplog.records if r.name == "security"]
    assert record.levelname == "WARNING"
    assert record.event == "introspection_client_refused"
    assert record.client_id == logged
    assert record.ip_address == "127.0.0.1"
    assert SECRET not in record.getMessage() and "not-the-secret" not in record.getMessage()
    assert "\n" not in record.getMessage()


# Client authentication: the forms clients send (RFC 6749 section 2.3.1).

# What `openssl rand -base64 32` gives: the characters a form encoding changes.
BASE64_SECRET = "q+Zk/3bV9yR2w7XnLp0c4TfUuA8sHjKe1GmNoPiQdYs="


def post_form(**fields):
    return APIClient().post(
        URL, urlencode(fields), content_type="application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize("spelling", ["raw", "form-encoded"])
def test_a_base64_secret_works_raw_and_form_encoded(settings, access, spelling):
    """curl -u, requests and authlib send the secret raw; openid-client form-encodes it."""
    settings.TOKENS = {**settings.TOKENS, "INTROSPECTION_CLIENTS": {"billing": BASE64_SECRET}}
    secret = BASE64_SECRET if spelling == "raw" else quote_plus(BASE64_SECRET)
    assert introspect(access, **basic(secret=secret)).json()["active"] is True


def test_client_secret_post_in_a_form_or_in_json(access):
    """openid-client's default: the credentials in the body (client_secret_post)."""
    assert post_form(token=access, client_id="billing", client_secret=SECRET).json()["active"]
    in_json = APIClient().post(
        URL,
        {"token": access, "client_id": "billing", "client_secret": SECRET},
        format="json",
    )
    assert in_json.json()["active"] is True


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_id": "billing", "client_secret": SECRET[:-1] + "X"},
        {"client_id": "nobody", "client_secret": SECRET},
        {"client_id": "reports", "client_secret": SECRET},
        {"client_id": "billing"},
        {"client_secret": SECRET},
        {"client_id": "billing", "client_secret": [SECRET]},
        {"client_id": ["billing"], "client_secret": SECRET},
    ],
    ids=["wrong", "unknown id", "another's secret", "no secret", "no id", "list", "list id"],
)
def test_wrong_posted_credentials_are_invalid_client(access, credentials):
    response = APIClient().post(URL, {"token": access, **credentials}, format="json")
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_two_methods_at_once_are_refused(access):
    """RFC 6749 section 2.3: one method per request, even when both are right."""
    response = APIClient().post(
        URL,
        urlencode({"token": access, "client_id": "billing", "client_secret": SECRET}),
        content_type="application/x-www-form-urlencoded",
        **basic(),
    )
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


@pytest.mark.parametrize(
    "headers",
    [
        basic(),
        basic(secret=quote_plus(BASE64_SECRET)),
        basic(secret=BASE64_SECRET),
        basic(secret="wrong" * 8),
        basic(client_id="nobody"),
    ],
    ids=["right", "right, form-encoded", "right, raw", "wrong secret", "unknown id"],
)
def test_every_basic_attempt_makes_the_same_comparisons(settings, monkeypatch, access, headers):
    """Both spellings are compared every time, in constant time, whether the id exists
    or not: nothing in the work done says which spelling matched or that the id is known."""
    settings.TOKENS = {
        **settings.TOKENS,
        "INTROSPECTION_CLIENTS": {"billing": BASE64_SECRET, "reports": SECRET},
    }
    compared = []
    real = authentication.constant_time_compare

    def spy(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(authentication, "constant_time_compare", spy)
    introspect(access, **headers)
    digest = len(hashlib.sha256().digest())
    assert compared == [(digest, digest)] * 2


# Rate limits: per service, and strangers on a budget of their own.


@pytest.fixture
def frozen_minute():
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), tick=False):
        yield


def from_ip(ip: str, headers: dict | None = None, token: str = "x"):
    return APIClient().post(
        URL,
        f"token={token}",
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR=ip,
        **(headers if headers is not None else basic()),
    )


def test_each_service_has_its_own_budget(settings, frozen_minute):
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_INTROSPECTION": "3/m"}
    assert [from_ip("10.0.0.1").status_code for _ in range(4)] == [200, 200, 200, 429]
    # Another service behind the same address (one NAT, one host) is not held up.
    assert from_ip("10.0.0.1", basic("reports", "r" * 40)).status_code == 200


def test_strangers_do_not_spend_a_services_budget(settings, frozen_minute):
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_INTROSPECTION": "3/m"}
    stranger = [from_ip("10.0.0.9", basic(secret="guess" * 8)).status_code for _ in range(3)]
    stranger += [from_ip("10.0.0.9", {}).status_code for _ in range(2)]
    assert stranger == [401, 401, 401, 429, 429]
    assert [from_ip("10.0.0.1").status_code for _ in range(3)] == [200, 200, 200]


def test_a_services_answers_do_not_spend_its_addresss_failure_budget(settings, frozen_minute):
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_INTROSPECTION": "3/m"}
    assert [from_ip("10.0.0.1").status_code for _ in range(3)] == [200, 200, 200]
    assert from_ip("10.0.0.1", basic(secret="guess" * 8)).status_code == 401
