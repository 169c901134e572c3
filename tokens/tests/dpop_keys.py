"""A DPoP client's key for the tests: signs RFC 9449 proofs with PyJWT and cryptography,
and can be told to get any part of one wrong."""

import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tokens import dpop

SERVER = "http://testserver"


class DpopKey:
    """A client key pair: ES256 (P-256, the browser's WebCrypto key) or EdDSA (Ed25519)."""

    def __init__(self, alg: str = "ES256") -> None:
        self.alg = alg
        if alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
        else:
            self.private = ed25519.Ed25519PrivateKey.generate()
        algorithm = jwt.get_algorithm_by_name(alg)
        self.private_jwk = json.loads(algorithm.to_jwk(self.private))
        self.jwk = json.loads(algorithm.to_jwk(self.private.public_key()))
        self.jkt = dpop.thumbprint(self.jwk)

    def proof(
        self,
        method: str,
        url: str,
        access_token: str | None = None,
        *,
        header: dict | None = None,
        key=None,
        **claims,
    ) -> str:
        """A proof for ``method`` ``url`` (a path is on the test server), with the
        access token's ``ath``; ``header``, ``key`` and ``claims`` override its parts
        (a header or claim set to None is left out)."""
        payload = {
            "jti": str(uuid.uuid4()),
            "htm": method,
            "htu": url if "://" in url else SERVER + url,
            "iat": int(time.time()),
        }
        if access_token is not None:
            payload["ath"] = dpop.access_token_hash(access_token)
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        headers = {"typ": "dpop+jwt", "jwk": self.jwk, **(header or {})}
        for name in [name for name, value in headers.items() if value is None]:
            del headers[name]
        headers.setdefault("typ", "")  # PyJWT's way of leaving typ out
        alg = headers.pop("alg", self.alg)
        return jwt.encode(payload, key or self.private, algorithm=alg, headers=headers)

    def api_headers(self, method: str, url: str, access_token: str) -> dict[str, str]:
        """An HTTP client's headers for a call with the token as DPoP and its proof."""
        return {
            "Authorization": f"DPoP {access_token}",
            "DPoP": self.proof(method, url, access_token),
        }

    def headers(self, method: str, url: str, access_token: str | None = None, **claims) -> dict:
        """The test client's headers for a request with a proof (and the token as DPoP)."""
        headers = {"HTTP_DPOP": self.proof(method, url, access_token, **claims)}
        if access_token is not None:
            headers["HTTP_AUTHORIZATION"] = f"DPoP {access_token}"
        return headers
