"""Access-token keys (tokens/signing.py, tokens/access.py): kid on every token, verified
by kid under that key's own algorithm, ES256 and EdDSA, rotation, the JWKS."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from rest_framework_simplejwt.exceptions import TokenError

from tokens import signing
from tokens.access import AccessToken
from tokens.checks import check_access_token_keys

ES_KEY = signing.generate_private_key(signing.ES256)
ES_NEXT = signing.generate_private_key(signing.ES256)
ED_KEY = signing.generate_private_key(signing.EDDSA)


def use(settings, algorithm: str, key: str | None = None, verifying=()) -> signing.KeySet:
    settings.TOKENS = {
        **settings.TOKENS,
        "ACCESS_TOKEN_ALGORITHM": algorithm,
        "ACCESS_TOKEN_SIGNING_KEY": key,
        "ACCESS_TOKEN_VERIFYING_KEYS": list(verifying),
    }
    return signing.key_set()


def issue(**claims) -> str:
    token = AccessToken()
    token["user_id"] = "42"
    for name, value in claims.items():
        token[name] = value
    return str(token)


def header(token: str) -> dict:
    return jwt.get_unverified_header(token)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(headers: dict, claims: dict, sign) -> str:
    """A JWT with exactly these headers, signed by ``sign(signing_input)``: what PyJWT
    refuses to make (a kid that is not a string, alg none, HS256 under a PEM)."""
    signing_input = f"{b64(json.dumps(headers).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def public_pem(private_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_hs256_tokens_carry_a_kid_that_is_not_a_plain_hash_of_the_key(settings):
    keys = use(settings, "HS256")
    token = issue()
    assert header(token) == {"alg": "HS256", "typ": "JWT", "kid": keys.signing.kid}
    assert AccessToken(token)["user_id"] == "42"
    secret = settings.SIMPLE_JWT["SIGNING_KEY"].encode()
    for digest in (hashlib.sha256(secret).digest(), hashlib.sha512(secret).digest()):
        for encoded in (digest.hex(), base64.urlsafe_b64encode(digest).decode()):
            assert keys.signing.kid not in encoded
    # Stable for one key, different for another.
    assert signing.hmac_key(secret).kid == keys.signing.kid
    assert signing.hmac_key(secret + b"x").kid != keys.signing.kid


def test_hs256_publishes_no_key(settings):
    use(settings, "HS256")
    assert signing.key_set().jwks() == {"keys": []}


@pytest.mark.parametrize(("algorithm", "pem"), [("ES256", ES_KEY), ("EdDSA", ED_KEY)])
def test_asymmetric_tokens_verify_with_the_published_key_alone(settings, algorithm, pem):
    keys = use(settings, algorithm, pem)
    token = issue(sid="s")
    assert header(token)["alg"] == algorithm
    assert header(token)["kid"] == keys.signing.kid
    assert AccessToken(token)["sid"] == "s"
    # What a resource server does: the JWKS alone, through PyJWT.
    (published,) = keys.jwks()["keys"]
    assert published["kid"] == keys.signing.kid
    assert published["alg"] == algorithm and published["use"] == "sig"
    assert "d" not in published  # never the private part
    public = jwt.PyJWK(published)
    assert jwt.decode(token, public, algorithms=[algorithm])["user_id"] == "42"


def test_the_kid_is_the_rfc7638_thumbprint(settings):
    keys = use(settings, "ES256", ES_KEY)
    (published,) = keys.jwks()["keys"]
    required = {name: published[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=")
    assert published["kid"] == expected.decode()


def test_a_verifying_key_verifies_and_is_published_but_does_not_sign(settings):
    use(settings, "ES256", ES_KEY)
    old_token = issue()
    keys = use(settings, "ES256", ES_NEXT, verifying=[ES_KEY])
    new_token = issue()
    assert header(new_token)["kid"] == keys.signing.kid != header(old_token)["kid"]
    assert AccessToken(old_token) and AccessToken(new_token)
    kids = [k["kid"] for k in keys.jwks()["keys"]]
    assert kids == [header(new_token)["kid"], header(old_token)["kid"]]
    # Once dropped, the old key's tokens are refused.
    use(settings, "ES256", ES_NEXT)
    with pytest.raises(TokenError):
        AccessToken(old_token)


def test_public_keys_and_other_algorithms_can_verify(settings):
    use(settings, "EdDSA", ED_KEY)
    eddsa_token = issue()
    keys = use(settings, "ES256", ES_KEY, verifying=[public_pem(ED_KEY)])
    assert {k["alg"] for k in keys.jwks()["keys"]} == {"ES256", "EdDSA"}
    assert AccessToken(eddsa_token)  # switching algorithms is a rotation like any other


def test_an_unknown_or_missing_kid_is_refused(settings):
    keys = use(settings, "ES256", ES_KEY)
    key = keys.signing.key
    claims = jwt.decode(issue(), options={"verify_signature": False})
    es256 = jwt.PyJWS().get_algorithm_by_name("ES256")
    assert AccessToken(
        forge({"alg": "ES256", "kid": keys.signing.kid}, claims, lambda m: es256.sign(m, key))
    )
    for kid in ({"kid": "not-a-key-of-ours"}, {}, {"kid": [keys.signing.kid]}):
        forged = forge({"alg": "ES256", **kid}, claims, lambda m: es256.sign(m, key))
        with pytest.raises(TokenError):
            AccessToken(forged)


def test_a_kidless_hs256_token_of_before_the_upgrade_still_verifies(settings):
    use(settings, "HS256")
    token = issue()
    claims = jwt.decode(token, options={"verify_signature": False})
    legacy = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    assert "kid" not in header(legacy)
    assert AccessToken(legacy)
    # Not once tokens are asymmetric: then a token without a kid is nobody's.
    use(settings, "ES256", ES_KEY)
    with pytest.raises(TokenError):
        AccessToken(legacy)


def test_the_token_cannot_choose_its_algorithm(settings):
    """The classic confusions: alg none, and HS256 keyed with the published public key."""
    keys = use(settings, "ES256", ES_KEY)
    kid = keys.signing.kid
    claims = jwt.decode(issue(), options={"verify_signature": False})
    unsigned = forge({"alg": "none", "kid": kid}, claims, lambda m: b"")
    published = public_pem(ES_KEY).encode()
    confused = forge(
        {"alg": "HS256", "kid": kid}, claims, lambda m: hmac.new(published, m, "sha256").digest()
    )
    for forged in (unsigned, confused):
        with pytest.raises(TokenError):
            AccessToken(forged)


def test_tampered_and_expired_tokens_are_refused(settings):
    use(settings, "EdDSA", ED_KEY)
    token = issue()
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["user_id"] = "43"
    other = b64(json.dumps(claims).encode())
    with pytest.raises(TokenError):
        AccessToken(f"{head}.{other}.{signature}")
    old = AccessToken()
    old.set_exp(lifetime=timedelta(seconds=-1))
    with pytest.raises(TokenError):
        AccessToken(str(old))


@pytest.mark.parametrize(
    ("algorithm", "pem", "message"),
    [
        ("ES256", None, "needs a private key: set ACCESS_TOKEN_SIGNING_KEY"),
        ("EdDSA", "", "needs a private key: set ACCESS_TOKEN_SIGNING_KEY"),
        ("ES256", ED_KEY, "ACCESS_TOKEN_SIGNING_KEY does not fit ACCESS_TOKEN_ALGORITHM=ES256"),
        ("EdDSA", ES_KEY, "ACCESS_TOKEN_SIGNING_KEY does not fit ACCESS_TOKEN_ALGORITHM=EdDSA"),
        ("ES256", public_pem(ES_KEY), "ACCESS_TOKEN_SIGNING_KEY must be a PEM private key"),
        ("ES256", "not a key", "ACCESS_TOKEN_SIGNING_KEY is not a PEM key"),
        ("HS256", ES_KEY, "ACCESS_TOKEN_SIGNING_KEY is set but ACCESS_TOKEN_ALGORITHM is HS256"),
        ("RS256", None, "ACCESS_TOKEN_ALGORITHM must be one of HS256, ES256, EdDSA"),
    ],
)
def test_a_bad_configuration_names_the_setting(settings, algorithm, pem, message):
    settings.TOKENS = {
        **settings.TOKENS,
        "ACCESS_TOKEN_ALGORITHM": algorithm,
        "ACCESS_TOKEN_SIGNING_KEY": pem,
    }
    with pytest.raises(ImproperlyConfigured, match=message):
        signing.key_set()
    (error,) = check_access_token_keys(None)
    assert error.id == "tokens.E004" and message in error.msg


def test_a_p384_key_is_not_an_es256_key(settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p384 = (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ImproperlyConfigured, match="does not fit"):
        use(settings, "ES256", p384)
    with pytest.raises(ImproperlyConfigured, match=r"ACCESS_TOKEN_VERIFYING_KEYS\[1\]"):
        use(settings, "ES256", ES_KEY, verifying=[ED_KEY, p384])


def ed448_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed448

    return (
        ed448.Ed448PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def test_an_ed448_key_is_not_an_eddsa_key(settings):
    """EdDSA means Ed25519 (RFC 8037 names both curves, but jose and most libraries
    verify Ed25519 only): an Ed448 key would sign tokens nobody else can verify."""
    ed448 = ed448_key()
    with pytest.raises(ImproperlyConfigured, match="does not fit ACCESS_TOKEN_ALGORITHM=EdDSA"):
        use(settings, "EdDSA", ed448)
    (error,) = check_access_token_keys(None)
    assert error.id == "tokens.E004" and "Ed25519" in error.msg
    with pytest.raises(ImproperlyConfigured, match=r"ACCESS_TOKEN_VERIFYING_KEYS\[0\]"):
        use(settings, "EdDSA", ED_KEY, verifying=[public_pem(ed448)])


def test_the_check_is_quiet_for_a_good_configuration(settings):
    use(settings, "EdDSA", ED_KEY, verifying=[ES_KEY])
    assert check_access_token_keys(None) == []


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_generate_signing_key_prints_a_usable_key_and_its_kid(settings, capsys, algorithm):
    call_command("generate_signing_key", "--algorithm", algorithm)
    out, err = capsys.readouterr()
    assert out.startswith("-----BEGIN PRIVATE KEY-----") and out.endswith("-----\n")
    keys = use(settings, algorithm, out)
    assert err.strip() == f"kid: {keys.signing.kid}"
    assert header(issue())["kid"] == keys.signing.kid


def test_issuer_and_audience_are_set_and_required(settings, monkeypatch):
    # simplejwt's ISSUER and AUDIENCE (ACCESS_TOKEN_ISSUER / ACCESS_TOKEN_AUDIENCE here):
    # a resource server that checks them refuses a token of another deployment. Set on
    # simplejwt's settings object, which modules hold from import (overriding
    # SIMPLE_JWT in a test rebinds a new one that they never see).
    from tokens.access import api_settings

    use(settings, "ES256", ES_KEY)
    monkeypatch.setattr(api_settings, "ISSUER", "https://auth.example.com")
    monkeypatch.setattr(api_settings, "AUDIENCE", "billing")
    token = issue()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "https://auth.example.com"
    assert claims["aud"] == "billing"
    assert AccessToken(token)
    monkeypatch.setattr(api_settings, "AUDIENCE", "reports")
    with pytest.raises(TokenError):
        AccessToken(token)
    monkeypatch.setattr(api_settings, "AUDIENCE", "billing")
    monkeypatch.setattr(api_settings, "ISSUER", "https://elsewhere.example.com")
    with pytest.raises(TokenError):
        AccessToken(token)
