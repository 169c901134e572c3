"""Bearer authentication: a simplejwt access token whose session is still live (for
requests, and for introspection's answer); and the client authentication of the
services that may introspect tokens."""

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote_plus

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from tokens import caller, crypto, dpop, dpop_binding, signals
from tokens.access import SESSION_ID_CLAIM, AccessToken
from tokens.errors import DPOP_ALGORITHMS, AccessTokenInvalid, ClientCredentialsInvalid, DpopError
from tokens.models import RefreshToken
from tokens.settings import tokens_settings

# RFC 9449 section 7.1: a DPoP-bound access token comes as ``Authorization: DPoP <token>``.
DPOP_SCHEME = b"dpop"


def _schemes() -> set[bytes]:
    """simplejwt's AUTH_HEADER_TYPES ("Bearer"), lower-cased."""
    types = api_settings.AUTH_HEADER_TYPES
    return {t.lower().encode() for t in ((types,) if isinstance(types, str) else types)}


def _scheme_of(header: bytes | None) -> bytes | None:
    parts = header.split(maxsplit=1) if header else []
    return parts[0].lower() if parts else None


def session_id_of(request) -> str | None:
    """The session the caller's access token was issued for (None without one)."""
    return request.auth.get(SESSION_ID_CLAIM) if request.auth is not None else None


def dpop_jkt_of(request) -> str | None:
    """The DPoP key the caller's access token is bound to (None: a bearer token)."""
    return request.auth.dpop_jkt if isinstance(request.auth, AccessToken) else None


def authenticated_user(session_id, user_id, *, now: datetime | None = None):
    """The user of the live session an access token names, in one query.

    None when the ids are malformed, the session is revoked or expired, belongs to
    someone else, or was opened with a password the user no longer has. (Whether the
    user is active is the caller's to check, as simplejwt's ``get_user`` does.)
    """
    user_field = get_user_model()._meta.get_field(api_settings.USER_ID_FIELD)
    try:
        session_id = RefreshToken._meta.pk.to_python(session_id)
        user_id = user_field.to_python(user_id)
    except ValidationError:
        return None
    if session_id is None or user_id is None:
        return None
    user = RefreshToken.objects.user_of_live_session(session_id, user_id, now or timezone.now())
    if user is None or not crypto.is_bound_to(user.session_password_binding, user.password):
        return None
    return user


def live_access_token(raw_token: str, *, now: datetime | None = None) -> AccessToken | None:
    """The access token, if it is one of ours that would authenticate a request now.

    For introspection (RFC 7662): exactly the checks of ``SessionJWTAuthentication``
    (signature by kid, expiry, a live session bound to the user's password, an active
    user) in the same one query, so revocation shows at once. None for anything else:
    expired, tampered, revoked, a refresh token, garbage.
    """
    try:
        token = AccessToken(raw_token)
    except TokenError:
        return None
    user = authenticated_user(
        token.get(SESSION_ID_CLAIM), token.get(api_settings.USER_ID_CLAIM), now=now
    )
    if user is None or not user.is_active or token.dpop_jkt != (user.session_dpop_jkt or None):
        return None
    return token


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
        if not parts or parts[0].lower() not in _schemes() | {DPOP_SCHEME}:
            return None
        if len(parts) != 2:
            raise AccessTokenInvalid()
        return parts[1]

    def authenticate_header(self, request) -> str:
        """The challenge of a 401 (RFC 6750 section 3): with ``error="invalid_token"``
        when the request presented a bearer token, which a 401 means was refused."""
        challenge = super().authenticate_header(request)
        scheme = _scheme_of(self.get_header(request))
        if scheme == DPOP_SCHEME:  # RFC 9449 section 7.1
            return f'DPoP algs="{DPOP_ALGORITHMS}", error="invalid_token"'
        if scheme in _schemes():
            return f'{challenge}, error="invalid_token"'
        return challenge

    def authenticate(self, request):
        try:
            authenticated = super().authenticate(request)
        except AccessTokenInvalid:
            raise
        except AuthenticationFailed:
            # simplejwt's own refusals (a header of three words...) answer with the
            # same code, in the project's views too, whatever its exception handler.
            raise AccessTokenInvalid() from None
        if authenticated is not None:
            self.check_dpop(request, *authenticated)
        return authenticated

    def check_dpop(self, request, user, token: AccessToken) -> None:
        """A token bound to a DPoP key only as ``DPoP`` with a proof by that key for
        this request (``ath``: this token); an unbound one only as ``Bearer``. The
        session's key came with ``user`` (``authenticated_user``'s one query)."""
        header = self.get_header(request)
        dpop_scheme = _scheme_of(header) == DPOP_SCHEME
        proof = None
        if dpop_scheme and token.dpop_jkt is not None:
            # The header's token as get_raw_token took it out (bytes), for the proof's ath.
            proof = dpop.of_request(request, access_token=token.token.decode())
        dpop_binding.check_access(
            token.dpop_jkt,
            user.session_dpop_jkt or None,
            proof.jkt if proof is not None else None,
            dpop_scheme=dpop_scheme,
        )

    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        # The class the app issues, whatever SIMPLE_JWT["AUTH_TOKEN_CLASSES"] says: it
        # verifies by kid against the key set (tokens/signing.py), which simplejwt's own
        # AccessToken cannot do with ES256 or EdDSA.
        try:
            return AccessToken(raw_token)
        except TokenError:
            raise AccessTokenInvalid() from None

    def get_user(self, validated_token):
        user = authenticated_user(
            validated_token.get(SESSION_ID_CLAIM),
            validated_token.get(api_settings.USER_ID_CLAIM),
        )
        if user is None or not user.is_active:
            raise AccessTokenInvalid()
        return user


class OptionalSessionJWTAuthentication(SessionJWTAuthentication):
    """The same, but a bad or expired bearer token counts as no token at all.

    For logout: an expired access token must not stop a user from getting rid of
    their refresh cookie (dj-rest-auth #515).
    """

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except (AuthenticationFailed, DpopError):
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
# The body fields of client_secret_post (RFC 6749 section 2.3.1).
CLIENT_ID_FIELD, CLIENT_SECRET_FIELD = "client_id", "client_secret"


class IntrospectionClientAuthentication(BaseAuthentication):
    """A service of INTROSPECTION_CLIENTS, by its id and secret (RFC 7662 section 2.1),
    in either of RFC 6749 section 2.3.1's methods, one per request:

    - HTTP Basic, the id and secret form-encoded as the RFC says (openid-client) or raw
      (curl -u, requests, authlib): both spellings are tried, every time;
    - ``client_id`` and ``client_secret`` in the body (client_secret_post,
      openid-client's default), as a form or JSON.

    Every comparison is of fixed-length digests in constant time, and the same ones are
    made whichever spelling matches and whether the id exists. No credentials: None
    (the view answers 401); wrong or ambiguous ones raise, with the same answer. Both
    carry ``WWW-Authenticate: Basic``."""

    def authenticate(self, request) -> tuple[ServiceClient, None] | None:
        scheme, _, encoded = get_authorization_header(request).partition(b" ")
        posted = _posted_credentials(request.data)
        if scheme.lower() != b"basic":
            if posted is None:
                return None
            candidates = [posted]
        elif posted is not None:
            raise self._refused(request, None)  # two methods at once (RFC 6749 2.3)
        else:
            candidates = _basic_credentials(encoded)
            if candidates is None:
                raise self._refused(request, None)
        known = tokens_settings.INTROSPECTION_CLIENTS
        # A list, not any(): every candidate is compared, whether an earlier one matched.
        matched = [
            client_id
            for client_id, secret in candidates
            if _same_secret(secret, known.get(client_id))
        ]
        if matched:
            return ServiceClient(matched[0]), None
        named = next((client_id for client_id, _ in candidates if client_id in known), None)
        raise self._refused(request, named)

    @staticmethod
    def _refused(request, client_id: str | None) -> ClientCredentialsInvalid:
        """Tell the security log (a guessed secret, a misconfigured service) and make
        the refusal to raise."""
        signals.introspection_client_refused.send(
            sender=RefreshToken, client_id=client_id, ip_address=caller.client_ip(request)
        )
        return ClientCredentialsInvalid()

    def authenticate_header(self, request) -> str:
        return 'Basic realm="introspection", charset="UTF-8"'


def _basic_credentials(encoded: bytes) -> list[tuple[str, str]] | None:
    """The (id, secret) spellings a Basic header can mean: raw, and form-decoded (RFC
    6749 section 2.3.1); None when it is not base64 of UTF-8 ``id:secret``."""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        return None
    return [(client_id, secret), (unquote_plus(client_id), unquote_plus(secret))]


def _posted_credentials(data) -> tuple[str, str] | None:
    """client_secret_post's (id, secret), None when the body names neither; a half or a
    value that is not a string is kept as one that cannot match."""
    if not hasattr(data, "get"):
        return None
    client_id, secret = data.get(CLIENT_ID_FIELD), data.get(CLIENT_SECRET_FIELD)
    if client_id is None and secret is None:
        return None
    return (
        client_id if isinstance(client_id, str) else "",
        secret if isinstance(secret, str) else "",
    )


def _same_secret(presented: str, expected: str | None) -> bool:
    """Whether ``presented`` is ``expected``, by digests compared in constant time: the
    same work for a secret of any length, and for an unknown id (``expected`` None)."""
    digests = (
        hashlib.sha256(value.encode(errors="surrogatepass")).digest()
        for value in (presented, expected or _NO_SECRET)
    )
    return constant_time_compare(*digests) and expected is not None
