"""The access tokens' keys: which one signs, which ones verify, what the JWKS publishes.

The only code that touches access-token key material (``tokens.crypto`` keeps the
refresh token's). Keys are parsed by PyJWT's algorithms (which also check that a key
fits its algorithm, the curve included), published with PyJWT's ``to_jwk`` and named
by their RFC 7638 thumbprint (joserfc): no JOSE code of our own.

Every key has a ``kid``. Tokens carry the kid of the key that signed them and are
verified with the key of that kid only, under that key's own algorithm, so a token can
never choose its algorithm (no ``none``, no HS256 signed with a public key).

Importable from a settings module: nothing here reads Django settings at import time.
HS256 needs nothing more than PyJWT; cryptography and joserfc (the "keys" extra) are
imported only for ES256 and EdDSA keys.
"""

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

from tokens import extras

HS256 = "HS256"
ES256 = "ES256"
EDDSA = "EdDSA"
ALGORITHMS = (HS256, ES256, EDDSA)
ASYMMETRIC = (ES256, EDDSA)

# What each asymmetric algorithm signs with. PyJWT checks the key type and, for ES256,
# the curve; its EdDSA takes Ed448 too, which jose and most libraries cannot verify:
# EdDSA here means Ed25519, as it does in practice.
_EXPECTED = {ES256: "an EC P-256 private key", EDDSA: "an Ed25519 private key"}
# The HS256 key's id is a MAC of this label under the key: stable for one key, different
# for the next, and it says nothing about the key (a plain hash of a guessable
# SECRET_KEY would let anyone confirm a guess offline).
_HMAC_KID_SALT = "tokens.signing.kid"
_HMAC_KID_LABEL = "access-token-hmac-key"
_HMAC_KID_LENGTH = 16


@dataclass(frozen=True)
class Key:
    """One key: its id, the algorithm it is used with, and the key as PyJWT takes it."""

    kid: str
    algorithm: str
    key: Any = field(repr=False)  # the HMAC secret (bytes) or a cryptography key object
    # The public JWK to publish; None for an HMAC secret, which is never published.
    public_jwk: Mapping[str, str] | None = None


@dataclass(frozen=True)
class KeySet:
    """The key that signs new tokens and every key (it included) that verifies them."""

    signing: Key
    verifying: Mapping[str, Key]  # by kid

    def verifying_key(self, kid: object) -> Key | None:
        """The key of ``kid``, None for an unknown kid or one that is not a string."""
        return self.verifying.get(kid) if isinstance(kid, str) else None

    def jwks(self) -> dict:
        """The JWK Set (RFC 7517) of the public keys: empty when only HMAC keys verify."""
        return {"keys": [dict(k.public_jwk) for k in self.verifying.values() if k.public_jwk]}


def canonical_algorithm(value: str) -> str:
    """``es256`` -> ``ES256``: the spelling PyJWT and the JWKS use; ValueError if unknown."""
    for algorithm in ALGORITHMS:
        if algorithm.lower() == value.lower():
            return algorithm
    raise ValueError(value)


def hmac_key(secret: str | bytes) -> Key:
    """The HS256 key of ``secret`` (simplejwt's SIGNING_KEY), with a non-secret kid."""
    digest = salted_hmac(_HMAC_KID_SALT, _HMAC_KID_LABEL, secret=secret, algorithm="sha256")
    kid = base64.urlsafe_b64encode(digest.digest()).decode()[:_HMAC_KID_LENGTH]
    return Key(kid=kid, algorithm=HS256, key=_algorithm(HS256).prepare_key(secret))


def private_key(pem: str, algorithm: str, *, name: str) -> Key:
    """The signing key of a PEM private key for ``algorithm`` (ES256: P-256, EdDSA:
    Ed25519); ImproperlyConfigured naming ``name`` when it is not one."""
    prepared = _prepare(pem, algorithm, name=name)
    if not isinstance(prepared, _private_key_types()):
        raise ImproperlyConfigured(f"{name} must be a PEM private key, got a public key.")
    return _asymmetric_key(prepared, algorithm)


def verifying_key(pem: str, *, name: str) -> Key:
    """The verifying key of a PEM key, private or public, of any asymmetric algorithm we
    sign with (the algorithm follows from the key); ImproperlyConfigured naming ``name``."""
    _require_keys_extra()
    for algorithm in ASYMMETRIC:
        try:
            prepared = _key_for(algorithm, pem)
        except (jwt.InvalidKeyError, ValueError, TypeError):
            continue
        return _asymmetric_key(prepared, algorithm)
    raise ImproperlyConfigured(
        f"{name} must be a PEM key for {' or '.join(ASYMMETRIC)} (an EC P-256 or an "
        "Ed25519 key, private or public)."
    )


def build(
    algorithm: str,
    *,
    hmac_secret: str | bytes,
    signing_pem: str | None = None,
    signing_name: str = "ACCESS_TOKEN_SIGNING_KEY",
    verifying_pems: Iterable[tuple[str, str]] = (),
) -> KeySet:
    """The key set of a configuration, or ImproperlyConfigured naming what is wrong.

    HS256 signs with ``hmac_secret``; ES256 and EdDSA with ``signing_pem``, which
    they require and HS256 refuses (a key that is set but unused is a switch that was
    forgotten). ``verifying_pems`` are ``(name, pem)`` pairs of keys that still verify,
    and are published, but do not sign: the previous key after a rotation, the next
    one before it.
    """
    if algorithm not in ALGORITHMS:
        raise ImproperlyConfigured(
            f"ACCESS_TOKEN_ALGORITHM must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}."
        )
    if algorithm == HS256:
        if signing_pem:
            raise ImproperlyConfigured(
                f"{signing_name} is set but ACCESS_TOKEN_ALGORITHM is HS256, which signs "
                "with SECRET_KEY: set ACCESS_TOKEN_ALGORITHM to ES256 or EdDSA to use it."
            )
        signing = hmac_key(hmac_secret)
    else:
        if not signing_pem:
            raise ImproperlyConfigured(
                f"ACCESS_TOKEN_ALGORITHM={algorithm} needs a private key: set {signing_name} "
                f"(manage.py generate_signing_key --algorithm {algorithm} makes one)."
            )
        _require_keys_extra()
        signing = private_key(signing_pem, algorithm, name=signing_name)
    verifying = {signing.kid: signing}
    for name, pem in verifying_pems:
        key = verifying_key(pem, name=name)
        verifying.setdefault(key.kid, key)
    return KeySet(signing=signing, verifying=verifying)


def generate_private_key(algorithm: str) -> str:
    """A new private key for ``algorithm`` (ES256: P-256, EdDSA: Ed25519), as PKCS#8 PEM."""
    _require_keys_extra()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if algorithm == ES256:
        key = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == EDDSA:
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"no key pair for {algorithm}")
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


# (the configuration it was built from, the key set): see key_set().
_cached: tuple[tuple, KeySet] | None = None


def key_set() -> KeySet:
    """The project's key set, from its Django settings (see tokens/settings.py).

    Built once per configuration: a changed setting (override_settings in tests)
    builds a new one, an unchanged one costs a few attribute reads.
    """
    global _cached
    from rest_framework_simplejwt.settings import api_settings

    from tokens.settings import tokens_settings

    config = (
        tokens_settings.ACCESS_TOKEN_ALGORITHM,
        tokens_settings.ACCESS_TOKEN_SIGNING_KEY,
        tuple(tokens_settings.ACCESS_TOKEN_VERIFYING_KEYS),
        api_settings.SIGNING_KEY,
    )
    cached = _cached
    if cached is not None and cached[0] == config:
        return cached[1]
    algorithm, signing_pem, verifying_pems, secret = config
    keys = build(
        algorithm,
        hmac_secret=secret,
        signing_pem=signing_pem,
        verifying_pems=(
            (f"ACCESS_TOKEN_VERIFYING_KEYS[{i}]", pem) for i, pem in enumerate(verifying_pems)
        ),
    )
    _cached = (config, keys)
    return keys


def _require_keys_extra() -> None:
    if not extras.installed("keys"):
        raise ImproperlyConfigured(extras.missing("keys"))


def _key_classes(algorithm: str) -> tuple[type, ...]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    return {
        ES256: (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey),
        EDDSA: (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey),
    }[algorithm]


def _private_key_types() -> tuple[type, ...]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    return (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


def _algorithm(name: str) -> jwt.algorithms.Algorithm:
    return jwt.PyJWS().get_algorithm_by_name(name)


def _key_for(algorithm: str, pem: str) -> Any:
    """PyJWT's key object of ``pem`` for ``algorithm``, of the one curve we sign with."""
    prepared = _algorithm(algorithm).prepare_key(pem)
    if not isinstance(prepared, _key_classes(algorithm)):
        raise jwt.InvalidKeyError(f"not {_EXPECTED[algorithm]}")
    return prepared


def _prepare(pem: str, algorithm: str, *, name: str) -> Any:
    try:
        return _key_for(algorithm, pem)
    except jwt.InvalidKeyError:
        raise ImproperlyConfigured(
            f"{name} does not fit ACCESS_TOKEN_ALGORITHM={algorithm}, which needs "
            f"{_EXPECTED[algorithm]}."
        ) from None
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{name} is not a PEM key.") from None


def _asymmetric_key(prepared: Any, algorithm: str) -> Key:
    from joserfc.jwk import thumbprint

    public = prepared.public_key() if isinstance(prepared, _private_key_types()) else prepared
    jwk = _algorithm(algorithm).to_jwk(public, as_dict=True)
    kid = thumbprint(jwk)
    return Key(
        kid=kid,
        algorithm=algorithm,
        key=prepared,
        public_jwk={**jwk, "kid": kid, "alg": algorithm, "use": "sig"},
    )
