"""simplejwt's AccessToken, verified with authsite's JWKS by a PyJWKClient whose cache
time and refresh cooldown come from settings (simplejwt's own client takes PyJWT's
defaults and no options). ``_token_backend`` is simplejwt's hook for a token class's
backend."""

from django.conf import settings
from jwt import PyJWKClient
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken as SimpleJWTAccessToken

_backend = TokenBackend(
    api_settings.ALGORITHM,
    audience=api_settings.AUDIENCE,
    issuer=api_settings.ISSUER,
    leeway=api_settings.LEEWAY,
)
_backend.jwks_client = PyJWKClient(
    api_settings.JWK_URL,
    lifespan=settings.JWKS_CACHE_SECONDS,
    cooldown_duration=settings.JWKS_REFRESH_COOLDOWN,
    timeout=5,
)


class AccessToken(SimpleJWTAccessToken):
    _token_backend = _backend
