"""Encode and verify refresh tokens, and bind sessions to passwords: the only module
that touches the refresh tokens' key (``tokens.signing`` keeps the access tokens').

A refresh token is ``base64url(version || session id || generation || MAC)`` where the
MAC is HMAC-SHA256 over the first three parts under a key derived from ``SECRET_KEY``
(Django's ``salted_hmac``). Nothing about the token is stored: the session row holds the
id and the current generation, and only the server's key can produce the MAC, so a copy of
the database yields no usable token. The encoding is deterministic, which is what lets the
reuse interval hand out the byte-identical successor again.
"""

import base64
import binascii
import hmac
import re
import struct
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

_VERSION = 1
_HEADER = struct.Struct(">B16sQ")  # version, session UUID bytes, generation
_MAC_BYTES = 32
_RAW_BYTES = _HEADER.size + _MAC_BYTES
_ENCODED_LENGTH = 76  # base64url of 57 bytes, no padding
_ENCODED = re.compile(rf"[A-Za-z0-9_-]{{{_ENCODED_LENGTH}}}")
_KEY_SALT = "tokens.crypto.refresh-token"
_BINDING_SALT = "tokens.crypto.password-binding"


def _secrets() -> list[str]:
    return [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]


@dataclass(frozen=True)
class TokenClaims:
    session_id: uuid.UUID
    generation: int


def _mac(payload: bytes, secret: str) -> bytes:
    return salted_hmac(_KEY_SALT, payload, secret=secret, algorithm="sha256").digest()


def encode(session_id: uuid.UUID, generation: int) -> str:
    """The refresh token for this generation of this session, under the current key."""
    payload = _HEADER.pack(_VERSION, session_id.bytes, generation)
    raw = payload + _mac(payload, settings.SECRET_KEY)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(token: object) -> TokenClaims | None:
    """The claims of a genuine token, or None for anything else; never raises.

    The MAC is checked in constant time against the current key and then each of
    ``SECRET_KEY_FALLBACKS``, so rotating the secret key does not log everybody out.
    """
    if not isinstance(token, str) or not _ENCODED.fullmatch(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _RAW_BYTES:
        return None
    payload, mac = raw[: _HEADER.size], raw[_HEADER.size :]
    if not any(hmac.compare_digest(mac, _mac(payload, secret)) for secret in _secrets()):
        return None
    version, session_bytes, generation = _HEADER.unpack(payload)
    if version != _VERSION:
        return None
    return TokenClaims(uuid.UUID(bytes=session_bytes), generation)


def _binding(password_hash: str, secret: str) -> str:
    return salted_hmac(_BINDING_SALT, password_hash, secret=secret, algorithm="sha256").hexdigest()


def password_binding(password_hash: str) -> str:
    """What a session opened with this password hash stores (under the current key)."""
    return _binding(password_hash, settings.SECRET_KEY)


def password_bindings(password_hash: str) -> list[str]:
    """Every binding of this password hash that a live session may hold: the current
    key's and each fallback key's (rotating SECRET_KEY keeps sessions alive)."""
    return [_binding(password_hash, secret) for secret in _secrets()]


def is_bound_to(binding: str, password_hash: str) -> bool:
    """Whether a session's stored binding belongs to this password hash (constant time)."""
    return any(
        hmac.compare_digest(binding, _binding(password_hash, secret)) for secret in _secrets()
    )
