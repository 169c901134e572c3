"""A stock project around simplejwt, as a team choosing a token library starts one.

``django-admin startproject`` 5.2's settings, changed only where marked ``bench:``:
rest_framework, simplejwt and its token_blacklist app (rotate + blacklist, simplejwt's
defaults otherwise), and what the benchmark must set from outside (the secret key,
DEBUG, hosts, the database, the hasher). Nothing of our service: Django's default
MIDDLEWARE, auth.User, no cache, no rate limit, no logging configuration. The database
is kept open like ours (bench/http_bench.py compares libraries, not connection
settings): ``CONN_MAX_AGE=60``, and on SQLite our WAL pragmas. Django's own backend
otherwise, with its defaults: no connection health check (ours polls the socket instead
of sending a ``SELECT 1``, authsite/postgresql/), client-side parameter binding.
"""

import os
from pathlib import Path

import dj_database_url

# Build paths inside the project like this: BASE_DIR / 'subdir'.
BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ["SECRET_KEY"]  # bench: from the environment
DEBUG = os.environ.get("DEBUG", "false") == "true"  # bench: off, as in production
ALLOWED_HOSTS = ["*"]  # bench: loopback, whatever the port

# Application definition

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",  # bench
    "rest_framework_simplejwt",  # bench
    "rest_framework_simplejwt.token_blacklist",  # bench
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

ROOT_URLCONF = "bench.stock.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "bench.stock.wsgi.application"

# bench: the benchmark's database, kept open as ours are (authsite/settings.py).
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# bench: one hasher, as in bench/settings.py (md5: login measures the library, not the
# hash; argon2: the production hasher).
PASSWORD_HASHERS = [
    {
        "md5": "django.contrib.auth.hashers.MD5PasswordHasher",
        "argon2": "django.contrib.auth.hashers.Argon2PasswordHasher",
    }[os.environ.get("BENCH_PASSWORD_HASHER", "md5")]
]

# Internationalization

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# bench: simplejwt as its README sets it up, with rotation and the blacklist.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
}
SIMPLE_JWT = {"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True}
