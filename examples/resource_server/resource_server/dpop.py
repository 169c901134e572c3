"""What a resource server must check of a DPoP-bound access token (RFC 9449 section 7),
in the fewest lines that check all of it: docs/dpop.md walks through the same list.

A token whose claims (verified with the JWKS, or introspection's answer) carry
``cnf.jkt`` is bound to the client's key. It is accepted only as ``Authorization: DPoP
<token>`` with a ``DPoP`` header holding a proof that:

1. is a JWS with ``typ: dpop+jwt``, an asymmetric ``alg`` (here ES256 or EdDSA/Ed25519)
   and a public ``jwk`` in its header (no private members), signed by that key;
2. names this request: ``htm`` its method, ``htu`` its URI without query or fragment;
3. is fresh: ``iat`` within a minute of our clock, and a ``jti`` not seen before (the
   cache must be shared by every worker and instance in production: Redis);
4. carries ``ath``, the base64url SHA-256 of this access token;
5. was signed by the key the token names: the jwk's RFC 7638 thumbprint is ``cnf.jkt``.

A bound token sent as ``Bearer`` is refused: the token alone is worth nothing.
"""

import base64
import hashlib
import json
import time
from urllib.parse import urlsplit

import jwt
from django.core.cache import cache
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

WINDOW_SECONDS = 60
ALGORITHMS = {"ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519"), "Ed25519": ("OKP", "Ed25519")}
_JWS = jwt.PyJWS(algorithms=["ES256", "EdDSA"])
_JWS.register_algorithm("Ed25519", jwt.algorithms.OKPAlgorithm())  # RFC 9864's name
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


class DPoPRefused(AuthenticationFailed):
    default_detail = "DPoP proof refused."


def _b64url_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def bound_key(claims) -> str | None:
    """The thumbprint a token is bound to (its ``cnf.jkt``), or None for a bearer token."""
    cnf = claims.get("cnf")
    return cnf.get("jkt") if isinstance(cnf, dict) else None


def check_proof(request, access_token: str, jkt: str) -> None:
    """Raise DPoPRefused unless the request's DPoP header proves the key ``jkt``."""
    proof = request.headers.get("DPoP", "")
    try:
        header = jwt.get_unverified_header(proof)
        alg, jwk = header.get("alg"), header.get("jwk")
        if header.get("typ") != "dpop+jwt" or alg not in ALGORITHMS or not isinstance(jwk, dict):
            raise DPoPRefused()
        kty, crv = ALGORITHMS[alg]
        if "d" in jwk or jwk.get("kty") != kty or jwk.get("crv") != crv:
            raise DPoPRefused()
        public = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[kty]}
        key = jwt.PyJWK(public, algorithm="ES256" if kty == "EC" else "EdDSA").key
        claims = json.loads(_JWS.decode_complete(proof, key, algorithms=[alg])["payload"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        raise DPoPRefused() from None
    thumbprint = _b64url_sha256(json.dumps(public, separators=(",", ":"), sort_keys=True).encode())
    if thumbprint != jkt:
        raise DPoPRefused("The proof is signed by another key than the token's.")
    # Django builds the URI from ALLOWED_HOSTS and the proxy settings, not raw headers.
    uri = urlsplit(request.build_absolute_uri(request.path))
    htu = urlsplit(str(claims.get("htu", "")))  # query and fragment are not compared
    same_uri = (htu.scheme.lower(), htu.netloc.lower(), htu.path) == (
        uri.scheme,
        uri.netloc.lower(),
        uri.path,
    )
    if claims.get("htm") != request.method or not same_uri:
        raise DPoPRefused("The proof is for another request.")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or abs(time.time() - iat) > WINDOW_SECONDS:
        raise DPoPRefused("The proof is too old, or from the future.")
    if claims.get("ath") != _b64url_sha256(access_token.encode()):
        raise DPoPRefused("The proof is for another access token.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not cache.add(
        "dpop-jti:" + _b64url_sha256(f"{jkt}.{jti}".encode()), 1, 2 * WINDOW_SECONDS
    ):
        raise DPoPRefused("The proof was used before.")


class DPoPJWTAuthentication(JWTStatelessUserAuthentication):
    """simplejwt's stateless authentication (the JWKS), plus RFC 9449 for bound tokens."""

    def get_raw_token(self, header: bytes):
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() not in (b"bearer", b"dpop"):
            return None
        return parts[1]

    def authenticate(self, request):
        authenticated = super().authenticate(request)
        if authenticated is None:
            return None
        scheme, raw = self.get_header(request).split()
        jkt = bound_key(authenticated[1])
        if jkt is None:
            if scheme.lower() == b"dpop":
                raise DPoPRefused("Not a DPoP-bound token.")
            return authenticated
        if scheme.lower() != b"dpop":
            raise DPoPRefused("A DPoP-bound token needs the DPoP scheme and a proof.")
        check_proof(request, raw.decode(), jkt)
        return authenticated

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api", DPoP algs="ES256 EdDSA Ed25519"'
