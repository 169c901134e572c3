"""The access token: simplejwt's ``AccessToken``, signed and verified with the key set.

Every token carries the ``kid`` of the key that signed it in its header; verification
looks the kid up in ``tokens.signing.key_set()`` (the signing key and the verifying
keys) and checks the signature with that key under that key's algorithm only. The
rest (claims, ``exp``, ``jti``, token type, leeway, audience, issuer) is simplejwt's.
The two claims of our own, the session and the last password proof, are named here.
"""

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

import jwt
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken as SimpleJWTAccessToken

from tokens import signing

# The session the token was issued for: it works only while that session lives.
SESSION_ID_CLAIM = "sid"
# When the user last proved their password (OpenID Connect's claim): a refresh keeps it.
AUTH_TIME_CLAIM = "auth_time"
# The key a DPoP-bound token is bound to (RFC 9449 section 6.1): {"jkt": thumbprint}.
CONFIRMATION_CLAIM = "cnf"


class KeySetTokenBackend(TokenBackend):
    """simplejwt's TokenBackend, with a ``kid`` header and a key chosen by it."""

    def __init__(self, keys: signing.KeySet) -> None:
        super().__init__(
            keys.signing.algorithm,
            audience=api_settings.AUDIENCE,
            issuer=api_settings.ISSUER,
            leeway=api_settings.LEEWAY,
            json_encoder=api_settings.JSON_ENCODER,
        )
        self.keys = keys

    def encode(self, payload: dict[str, Any]) -> str:
        claims = payload.copy()
        if self.audience is not None:
            claims["aud"] = self.audience
        if self.issuer is not None:
            claims["iss"] = self.issuer
        key = self.keys.signing
        return jwt.encode(
            claims,
            key.key,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
            json_encoder=self.json_encoder,
        )

    def decode(self, token, verify: bool = True) -> dict[str, Any]:
        key = self._key_of(token)
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.get_leeway(),
                options={"verify_aud": self.audience is not None, "verify_signature": verify},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken("Token is expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc

    def _key_of(self, token) -> signing.Key:
        header = _unverified_header(token)
        if "kid" not in header and self.keys.signing.algorithm == signing.HS256:
            # Issued before tokens had a kid: HS256 under the same key, as they always
            # were; they have all expired one ACCESS_TOKEN_LIFETIME after the upgrade.
            return self.keys.signing
        key = self.keys.verifying_key(header.get("kid"))
        if key is None:
            raise TokenBackendError("Token is invalid")
        return key


def _unverified_header(token: str | bytes) -> dict:
    """The header's fields, only to choose the key: jwt.decode then checks the whole
    token (header included) with that key and its algorithm alone.

    Not jwt.get_unverified_header, which decodes and validates all three segments
    character by character: as much again as the verification itself, on every
    authenticated request. A header this cannot read is refused here as well.
    """
    raw = token.decode("ascii", "replace") if isinstance(token, bytes) else token
    head = raw.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error, RecursionError):  # RecursionError: [[[[...]]]]
        raise TokenBackendError("Token is invalid") from None
    if not isinstance(header, dict):
        raise TokenBackendError("Token is invalid")
    return header


# (what the backend was built from, the backend): see _backend().
_cached: tuple[tuple, KeySetTokenBackend] | None = None


def _backend() -> KeySetTokenBackend:
    """The backend for the current key set and simplejwt settings, built again only
    when one of them changes (override_settings in tests): a token asks for it twice
    per verification, on every authenticated request."""
    global _cached
    keys = signing.key_set()
    config = (
        keys,
        api_settings.AUDIENCE,
        api_settings.ISSUER,
        api_settings.LEEWAY,
        api_settings.JSON_ENCODER,
    )
    cached = _cached
    if cached is not None and cached[0] == config:
        return cached[1]
    backend = KeySetTokenBackend(keys)
    _cached = (config, backend)
    return backend


class AccessToken(SimpleJWTAccessToken):
    """The access token the tokens app issues and accepts (kid header, key set)."""

    @property
    def token_backend(self) -> KeySetTokenBackend:
        return _backend()

    @classmethod
    def for_session(
        cls,
        user,
        session_id: uuid.UUID,
        authenticated_at: datetime,
        dpop_jkt: str | None = None,
    ) -> "AccessToken":
        """A token of ``user`` that names its session (``sid``), the session's last
        password proof (``auth_time``) and, for a session bound to a DPoP key, the key
        (``cnf.jkt``)."""
        token = cls.for_user(user)
        token[SESSION_ID_CLAIM] = str(session_id)
        token[AUTH_TIME_CLAIM] = int(authenticated_at.timestamp())
        if dpop_jkt is not None:
            token[CONFIRMATION_CLAIM] = {"jkt": dpop_jkt}
        return token

    @property
    def dpop_jkt(self) -> str | None:
        """The thumbprint of the DPoP key the token is bound to; None for a bearer token
        (and for a ``cnf`` that is not RFC 9449's, which then matches no session)."""
        confirmation = self.get(CONFIRMATION_CLAIM)
        if confirmation is None:
            return None
        jkt = confirmation.get("jkt") if isinstance(confirmation, dict) else None
        return jkt if isinstance(jkt, str) else "-"

    @staticmethod
    def lifetime_seconds() -> int:
        """``expires_in`` of every access token issued now (simplejwt's lifetime)."""
        return int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())
