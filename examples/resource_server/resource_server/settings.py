"""A second service that trusts authsite's access tokens: the smallest DRF project that does.

It has no users of its own and no database. Two ways to check a bearer token:

- ``GET /api/whoami``: verified here, with authsite's public keys (JWKS) through
  simplejwt's ``JWK_URL`` and ``JWTStatelessUserAuthentication``. No call to authsite
  per request (the key set is cached), so a logout is seen only when the token
  expires (at most authsite's ACCESS_TOKEN_LIFETIME).
- ``GET /api/whoami/introspected``: verified here the same way first, then asked of
  authsite's ``POST /api/auth/introspect`` with this service's credentials, on every
  request: a logout is seen at once, and a made-up token is never forwarded (it
  would spend this service's introspection budget, which authsite counts per service).

Run it next to authsite (which must sign with ES256 or EdDSA)::

    AUTH_SERVER_URL=http://127.0.0.1:8000 INTROSPECTION_CLIENT_ID=billing \\
    INTROSPECTION_CLIENT_SECRET=... ACCESS_TOKEN_ALGORITHM=ES256 \\
    python -m gunicorn --chdir examples/resource_server resource_server.wsgi -b 127.0.0.1:8001
"""

import os

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY = os.environ.get("SECRET_KEY", "resource-server-example-key-not-for-production")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "resource_server.urls"
DATABASES = {}  # no users table: the token says who the caller is
USE_TZ = True

AUTH_SERVER_URL = os.environ.get("AUTH_SERVER_URL", "http://127.0.0.1:8000").rstrip("/")
if not AUTH_SERVER_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"AUTH_SERVER_URL must be an http(s) URL, got {AUTH_SERVER_URL!r}.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's JWTStatelessUserAuthentication, plus DPoP (RFC 9449) for tokens
        # bound to the client's key (resource_server/dpop.py).
        "resource_server.dpop.DPoPJWTAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SIMPLE_JWT = {
    # The one algorithm authsite signs with (ACCESS_TOKEN_ALGORITHM there): a token
    # that names another is refused before any key is looked at.
    "ALGORITHM": os.environ.get("ACCESS_TOKEN_ALGORITHM", "ES256"),
    "JWK_URL": f"{AUTH_SERVER_URL}/.well-known/jwks.json",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    # simplejwt's AccessToken with the JWKS client's two timings (resource_server/jwks.py).
    "AUTH_TOKEN_CLASSES": ("resource_server.jwks.AccessToken",),
}
# How long the key set is kept (PyJWT's default, 300 s; authsite's rotation waits at
# least this long between publishing a key and signing with it), and how soon a token
# with an unknown kid may make it fetch the set again (PyJWT's default, 30 s: a flood
# of made-up kids costs authsite one fetch per period, not one per request).
JWKS_CACHE_SECONDS = float(os.environ.get("JWKS_CACHE_SECONDS", "300"))
JWKS_REFRESH_COOLDOWN = float(os.environ.get("JWKS_REFRESH_COOLDOWN", "30"))

# This service's credentials for authsite's introspection (INTROSPECTION_CLIENTS there).
INTROSPECTION_URL = f"{AUTH_SERVER_URL}/api/auth/introspect"
INTROSPECTION_CLIENT_ID = os.environ.get("INTROSPECTION_CLIENT_ID", "")
INTROSPECTION_CLIENT_SECRET = os.environ.get("INTROSPECTION_CLIENT_SECRET", "")
