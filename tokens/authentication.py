"""Bearer authentication: a simplejwt access token whose session is still live; and
HTTP Basic authentication of the services that may introspect tokens."""

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.utils.crypto import constant_time_compare
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from tokens import client, services, signals
from tokens.access import AccessToken
from tokens.errors import ACCESS_TOKEN_INVALID, ClientCredentialsInvalid
from tokens.models import RefreshToken
from tokens.settings import tokens_settings


def _schemes() -> set[bytes]:
    """simplejwt's AUTH_HEADER_TYPES ("Bearer"), lower-cased."""
    types = api_settings.AUTH_HEADER_TYPES
    return {t.lower().encode() for t in ((types,) if isinstance(types, str) else types)}


def session_id_of(request) -> str | None:
    """The session the caller's access token was issued for (None without one)."""
    return request.auth.get(services.SESSION_ID_CLAIM) if request.auth is not None else None


class SessionJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication, but the user is loaded through the token's session.

    One query (session joined with its user) replaces simplejwt's user lookup, and a
    revoked or expired session, or an inactive user, fails it: revocation reaches
    access tokens at once, at no extra cost.
    """

    def get_raw_token(self, header: bytes) -> bytes | None:
        """The token of a ``Bearer <token>`` header, the scheme in any case (RFC 9110
        section 11.1: login answers ``"token_type": "bearer"``, and clients such as
        openid-client send it back as they got it); simplejwt compares it exactly."""
        parts = header.split()
        if not parts or parts[0].lower() not in _schemes():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(ACCESS_TOKEN_INVALID, code=ACCESS_TOKEN_INVALID)
        return parts[1]

    def authenticate_header(self, request) -> str:
        """The challenge of a 401 (RFC 6750 section 3): with ``error="invalid_token"``
        when the request presented a bearer token, which a 401 means was refused."""
        challenge = super().authenticate_header(request)
        header = self.get_header(request)
        scheme = header.split(maxsplit=1)[:1] if header else []
        if scheme and scheme[0].lower() in _schemes():
            return f'{challenge}, error="invalid_token"'
        return challenge

    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        # The class the app issues, whatever SIMPLE_JWT["AUTH_TOKEN_CLASSES"] says: it
        # verifies by kid against the key set (tokens/signing.py), which simplejwt's own
        # AccessToken cannot do with ES256 or EdDSA.
        try:
            return AccessToken(raw_token)
        except TokenError:
            raise AuthenticationFailed(ACCESS_TOKEN_INVALID, code=ACCESS_TOKEN_INVALID) from None

    def get_user(self, validated_token):
        user = services.authenticated_user(
            validated_token.get(services.SESSION_ID_CLAIM),
            validated_token.get(api_settings.USER_ID_CLAIM),
        )
        if user is None or not user.is_active:
            raise AuthenticationFailed(ACCESS_TOKEN_INVALID, code=ACCESS_TOKEN_INVALID)
        return user


class OptionalSessionJWTAuthentication(SessionJWTAuthentication):
    """The same, but a bad or expired bearer token counts as no token at all.

    For logout: an expired access token must not stop a user from getting rid of
    their refresh cookie (dj-rest-auth #515).
    """

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            return None


@dataclass(frozen=True)
class ServiceClient:
    """A service named in INTROSPECTION_CLIENTS, authenticated by its secret: the
    ``request.user`` of an introspection request (no user row behind it)."""

    client_id: str
    is_authenticated = True
    is_active = True


# Compared against when the client id is unknown, so both refusals cost the same.
_NO_SECRET = "-" * 64


class IntrospectionClientAuthentication(BaseAuthentication):
    """HTTP Basic with a client id and secret from INTROSPECTION_CLIENTS (RFC 7662
    section 2.1, encoded as RFC 6749 section 2.3.1 says). No Basic header: None (the
    view answers 401 NOT_AUTHENTICATED); a wrong one raises, with the same answer.
    Both carry ``WWW-Authenticate: Basic``."""

    def authenticate(self, request) -> tuple[ServiceClient, None] | None:
        scheme, _, encoded = get_authorization_header(request).partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise self._refused(request, None) from None
        client_id, separator, secret = decoded.partition(":")
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        expected = tokens_settings.INTROSPECTION_CLIENTS.get(client_id)
        # Always one constant-time comparison, whether the id is known or not.
        matches = constant_time_compare(secret, expected or _NO_SECRET)
        if not separator or expected is None or not matches:
            raise self._refused(request, client_id if expected is not None else None)
        return ServiceClient(client_id), None

    @staticmethod
    def _refused(request, client_id: str | None) -> ClientCredentialsInvalid:
        """Tell the security log (a guessed secret, a misconfigured service) and make
        the refusal to raise."""
        signals.introspection_client_refused.send(
            sender=RefreshToken, client_id=client_id, ip_address=client.client_ip(request)
        )
        return ClientCredentialsInvalid()

    def authenticate_header(self, request) -> str:
        return 'Basic realm="introspection", charset="UTF-8"'
