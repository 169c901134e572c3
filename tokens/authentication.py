"""Bearer authentication: a simplejwt access token whose session is still live."""

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from tokens import services
from tokens.access import AccessToken
from tokens.errors import ACCESS_TOKEN_INVALID


def session_id_of(request) -> str | None:
    """The session the caller's access token was issued for (None without one)."""
    return request.auth.get(services.SESSION_ID_CLAIM) if request.auth is not None else None


class SessionJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication, but the user is loaded through the token's session.

    One query (session joined with its user) replaces simplejwt's user lookup, and a
    revoked or expired session, or an inactive user, fails it: revocation reaches
    access tokens at once, at no extra cost.
    """

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
