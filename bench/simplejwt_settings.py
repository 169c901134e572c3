"""The same project served by stock simplejwt: rotate + blacklist, its own views.

Everything else (middleware, database, cache, hasher, gunicorn) is bench/settings.py's,
so the two servers differ only in the token code.
"""

from bench.settings import *  # noqa: F403
from bench.settings import REST_FRAMEWORK, SIMPLE_JWT

ROOT_URLCONF = "bench.simplejwt_urls"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
}
SIMPLE_JWT = {**SIMPLE_JWT, "ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True}
