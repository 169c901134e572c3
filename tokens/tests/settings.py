"""The tokens app's own test project: Django's stock ``auth.User`` (username login) and
the app, nothing of the project it usually lives in. Its tests run under it, from a
checkout (``./scripts/test tokens/tests``) or from the installed wheel (``python -m
pytest --pyargs tokens.tests``); the live servers they start serve it too
(``tokens.tests.wsgi``).

A live server is configured through its environment: ``DATABASE_URL`` (SQLite by
default), ``REDIS_URL`` (the rate-limit cache; otherwise in-process),
``DATABASE_POOLING=transaction`` (PgBouncer), ``EMAIL_FILE_PATH`` (emails as files),
and any key of the app's ``TOKENS`` by its own name (``RATE_LIMIT_LOGIN=100000/m``,
``TRUSTED_PROXY_COUNT=1``; seconds for durations, JSON for dicts).
"""

import json
import os
import tempfile
from datetime import timedelta

import dj_database_url

from tokens.settings import DEFAULTS

SECRET_KEY = os.environ.get("SECRET_KEY", "tokens-test-project-key-not-for-production-0123456789")
DEBUG = os.environ.get("DEBUG", "false") == "true"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_tasks",
    "django_tasks_db",
    "tokens",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "tokens.tests.urls"
WSGI_APPLICATION = "tokens.tests.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "static/"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# AUTH_USER_MODEL stays Django's default, auth.User: username login, case-sensitive.

_default_db = os.path.join(tempfile.gettempdir(), "tokens-tests.sqlite3")
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{_default_db}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # What tokens needs of SQLite: writers take the lock at BEGIN (no row locks there).
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
if os.environ.get("DATABASE_POOLING") == "transaction":
    # PgBouncer in transaction pooling: nothing may outlive a transaction.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

_redis = os.environ.get("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis}
        if _redis
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tokens.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # No EXCEPTION_HANDLER: the app's errors must render with DRF's default one.
}
SIMPLE_JWT = {
    "SIGNING_KEY": SECRET_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=1),  # simplejwt's default is 5 minutes
}

# The security emails' queue (tokens.notifications): django-tasks' database backend,
# sent by `manage.py task_worker`; the tests' fixtures send them at once instead.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _from_environment(name: str, default):
    raw = os.environ[name]
    if isinstance(default, bool):
        return raw == "true"
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, timedelta):
        return timedelta(seconds=int(raw))
    if isinstance(default, dict | list | tuple):
        return json.loads(raw)
    return raw


TOKENS = {
    name: _from_environment(name, default)
    for name, default in DEFAULTS.items()
    if name in os.environ
}
