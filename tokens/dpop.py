"""DPoP proofs (RFC 9449): the one place that reads and verifies them.

A proof is a JWT the client signs with a key it never gives away, for one request:
``typ: dpop+jwt``, ``ES256`` or ``EdDSA`` (Ed25519), the public key in the header's
``jwk``, and in its claims the request's method (``htm``) and URI (``htu``), when it was
made (``iat``), a unique id (``jti``) and, next to an access token, the token's hash
(``ath``). ``verify`` checks all of RFC 9449 section 4.3 and returns the key's RFC 7638
thumbprint (``jkt``), which a session is bound to (``cnf.jkt`` in its access tokens).

A ``jti`` is kept in the cache (``cache.add``: whoever adds first wins) for as long as
its proof could still be accepted, so with a shared cache (Redis) every worker and
instance refuses a second use. The cache that cannot answer refuses the proof (503),
as the rate limiter does: a replay check that checks nothing is no check.
"""

import functools
import hashlib
import json
import math
import re
import string
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import jwt
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import escape_uri_path

from tokens import extras
from tokens.errors import (
    DpopNonceRequired,
    DpopProofExpired,
    DpopProofInvalid,
    DpopProofReplayed,
    DpopProofWrongRequest,
    DpopProofWrongToken,
    RateLimitUnavailable,
)
from tokens.settings import tokens_settings

HEADER = "DPoP"
NONCE_HEADER = "DPoP-Nonce"
TYPE = "dpop+jwt"
# The algorithms a proof may use, by the key they need (kty, crv): asymmetric only.
# Ed25519 by either name: "EdDSA" (RFC 8037) or "Ed25519" (RFC 9864's fully specified
# name, which panva's dpop and oauth4webapi send).
ALGORITHMS = {"ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519"), "Ed25519": ("OKP", "Ed25519")}
# A proof larger than this is refused unread: a P-256 proof with an ath is ~600 bytes.
MAX_PROOF_LENGTH = 2048
# The JWK members that make up each key type's RFC 7638 thumbprint, in order.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
# Members only a private (or symmetric) JWK has (RFC 7518 section 6).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_COORDINATE_BYTES = 32  # P-256 x and y, and an Ed25519 public key
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_JTI_PREFIX = "tokens:dpop:jti:"
# PyJWT knows Ed25519 as EdDSA only: a JWS verifier of its own that knows both names.
_PYJWT_NAMES = {"Ed25519": "EdDSA"}
_PERCENT_ESCAPE = re.compile(r"%([0-9a-fA-F]{2})")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")


@functools.cache
def _verifier() -> jwt.PyJWS:
    """PyJWT's JWS for the proofs' algorithms; their keys need cryptography (the "dpop"
    extra), imported by PyJWT on first use, never by a request without a proof."""
    verifier = jwt.PyJWS(algorithms=list(ALGORITHMS.keys() - _PYJWT_NAMES.keys()))
    verifier.register_algorithm("Ed25519", jwt.algorithms.OKPAlgorithm())
    return verifier


@dataclass(frozen=True)
class Proof:
    """A verified proof: the thumbprint of the key that signed it."""

    jkt: str


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 section 2), as PyJWT writes it."""
    return jwt.utils.base64url_encode(data).decode("ascii")


def access_token_hash(access_token: str) -> str:
    """``ath``: the base64url SHA-256 of the access token's ASCII (RFC 9449 section 4.2)."""
    return b64url(hashlib.sha256(access_token.encode("ascii", "replace")).digest())


def _unb64url(value: str) -> bytes:
    if not isinstance(value, str) or not _B64URL.fullmatch(value):
        raise DpopProofInvalid()
    return jwt.utils.base64url_decode(value)


def thumbprint(jwk: dict) -> str:
    """The key's RFC 7638 thumbprint: SHA-256 of its required members, sorted, no spaces.
    (joserfc computes it for the signing keys, but it is the "keys" extra; a proof's key
    needs only these three lines, so the "dpop" extra stays cryptography alone.)"""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def _public_key(header: dict):
    """The header's ``jwk`` as a public key for its ``alg``; refuses private members,
    another curve, and coordinates of the wrong size."""
    alg, jwk = header.get("alg"), header.get("jwk")
    if alg not in ALGORITHMS or not isinstance(jwk, dict):
        raise DpopProofInvalid()
    if _PRIVATE_MEMBERS & jwk.keys():
        raise DpopProofInvalid()
    kty, crv = ALGORITHMS[alg]
    if jwk.get("kty") != kty or jwk.get("crv") != crv:
        raise DpopProofInvalid()
    coordinates = ("x", "y") if kty == "EC" else ("x",)
    if any(len(_unb64url(jwk.get(name))) != _COORDINATE_BYTES for name in coordinates):
        raise DpopProofInvalid()
    public = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[kty]}
    try:
        return jwt.PyJWK(public, algorithm=_PYJWT_NAMES.get(alg, alg)).key, thumbprint(public)
    except (jwt.PyJWTError, ValueError):  # not a point on the curve
        raise DpopProofInvalid() from None


def _header(proof: str) -> dict:
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.InvalidTokenError:
        raise DpopProofInvalid() from None
    if header.get("typ") != TYPE:
        raise DpopProofInvalid()
    return header


def _no_constant(name: str):
    raise ValueError(name)


def _finite(number: int | float) -> bool:
    """Whether ``number`` is a float that is not infinite (an int of 400 digits is not)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def normalized_uri(uri: str) -> str | None:
    """``uri`` for comparing ``htu`` (RFC 9449 section 4.3, RFC 3986 section 6.2.2 and
    6.2.3): scheme and host lower-cased, the scheme's default port dropped, an empty path
    as ``/``, percent-escapes in upper case; query and fragment left out. None for a URI
    that is not absolute http(s)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    path = _PERCENT_ESCAPE.sub(_normalized_escape, parts.path or "/")
    return f"{scheme}://{host}{path}"


def _normalized_escape(match: re.Match) -> str:
    """An unreserved character decoded, any other escape in upper case (RFC 3986
    section 6.2.2.1 and 6.2.2.2)."""
    character = chr(int(match.group(1), 16))
    return character if character in _UNRESERVED else match.group().upper()


def request_uri(request) -> str | None:
    """The request's own URI as ``htu`` names it, built the way Django builds absolute
    URIs: scheme by ``SECURE_PROXY_SSL_HEADER``, host by ``ALLOWED_HOSTS`` and
    ``USE_X_FORWARDED_HOST`` (the project's proxy settings, never a raw client header)."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return normalized_uri(f"{request.scheme}://{host}{escape_uri_path(request.path)}")


def verify(
    proof: str,
    *,
    method: str,
    uri: str | None,
    access_token: str | None = None,
    now: datetime | None = None,
) -> Proof:
    """Check a proof for a request of ``method`` to ``uri`` (RFC 9449 section 4.3), with
    ``ath`` when it goes with ``access_token``; record its ``jti``. Raises a DPoP error
    (tokens.errors) for anything else."""
    if not proof or len(proof) > MAX_PROOF_LENGTH:
        raise DpopProofInvalid()
    header = _header(proof)
    key, jkt = _public_key(header)
    try:
        payload = _verifier().decode_complete(proof, key, algorithms=[header["alg"]])["payload"]
        # JSON has no NaN or Infinity: Python's json would read them, and a NaN iat
        # passes every comparison of the window.
        claims = json.loads(payload, parse_constant=_no_constant)
    except (jwt.InvalidTokenError, ValueError, RecursionError):
        raise DpopProofInvalid() from None
    if not isinstance(claims, dict):
        raise DpopProofInvalid()
    jti, htm, htu, iat = (claims.get(name) for name in ("jti", "htm", "htu", "iat"))
    if not (isinstance(jti, str) and jti and isinstance(htm, str) and isinstance(htu, str)):
        raise DpopProofInvalid()
    if not isinstance(iat, int | float) or isinstance(iat, bool) or not _finite(iat):
        raise DpopProofInvalid()
    if htm != method or uri is None or normalized_uri(htu) != uri:
        raise DpopProofWrongRequest()
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise DpopProofWrongToken()
    now = now or timezone.now()
    window = tokens_settings.DPOP_PROOF_WINDOW.total_seconds()
    if abs(now.timestamp() - iat) > window:
        raise DpopProofExpired()
    _check_nonce(claims.get("nonce"), now)
    _record_jti(jkt, jti, window)
    return Proof(jkt=jkt)


def _nonce_of(period: int) -> str:
    return b64url(salted_hmac("tokens.dpop.nonce", str(period), algorithm="sha256").digest())


def current_nonce(now: datetime | None = None) -> str | None:
    """The nonce proofs must carry now (``DPoP-Nonce``); None when nonces are off."""
    lifetime = tokens_settings.DPOP_NONCE_LIFETIME
    if lifetime is None:
        return None
    return _nonce_of(int((now or timezone.now()).timestamp() // lifetime.total_seconds()))


def _check_nonce(nonce, now: datetime) -> None:
    """With nonces on, accept the current period's nonce or the one before (a nonce
    handed out just before the period turned); refuse anything else with the current."""
    current = current_nonce(now)
    if current is None:
        return
    period = int(now.timestamp() // tokens_settings.DPOP_NONCE_LIFETIME.total_seconds())
    accepted = (current, _nonce_of(period - 1))
    # Both compared, in constant time, whichever matches.
    if not isinstance(nonce, str) or not sum(constant_time_compare(nonce, n) for n in accepted):
        raise DpopNonceRequired(current)


def _record_jti(jkt: str, jti: str, window: float) -> None:
    """Refuse a ``jti`` this key has used before. Kept twice the window (a proof is good
    from ``iat - window`` to ``iat + window``), under a digest: a fixed-size key."""
    key = _JTI_PREFIX + hashlib.sha256(f"{jkt}.{jti}".encode(errors="replace")).hexdigest()
    try:
        added = cache.add(key, 1, timeout=int(2 * window) + 1)
    except (*extras.redis_errors(), OSError):
        raise RateLimitUnavailable() from None
    if not added:
        raise DpopProofReplayed()


def of_request(request, access_token: str | None = None) -> Proof | None:
    """The verified proof of the request's ``DPoP`` header; None when it has none, or
    when the "dpop" extra is not installed: a server without DPoP ignores the header
    (RFC 9449 section 5), so the session is not bound and says ``token_type: bearer``."""
    proof = request.headers.get(HEADER)
    if proof is None or not extras.installed("dpop"):
        return None
    return verify(proof, method=request.method, uri=request_uri(request), access_token=access_token)
