"""Settings for the authsite project.

Every value a deployment may change comes from the environment, is read here once and
validated here (see ``authsite.env``); the rest of the code reads ``django.conf.settings``.
The variables and their defaults are listed in docs/settings.md.
"""

import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

from authsite import env
from tokens import signing

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.boolean("DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env.optional("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = _DEV_SECRET_KEY
SECRET_KEY_FALLBACKS = env.csv("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env.csv("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "authsite.apps.AdminConfig",  # django.contrib.admin, its login form rate-limited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "corsheaders",
    "django_ratelimit",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",  # the queue's table and the db_worker command
    "accounts",
    "tokens",
    "web",
]

MIDDLEWARE = [
    "authsite.middleware.ApiNoStoreMiddleware",
    "authsite.middleware.JsonApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware, so preflights and redirects carry the CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "authsite.urls"
WSGI_APPLICATION = "authsite.wsgi.application"

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

# Database: embedded SQLite by default, anything dj-database-url understands otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env.string("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has no row locks: IMMEDIATE takes the write lock at BEGIN so concurrent
    # refreshes queue behind each other (for up to `timeout` seconds) instead of
    # failing with "database is locked" when a reader tries to upgrade. Connections
    # are kept (CONN_MAX_AGE above), as on PostgreSQL: in WAL mode the last connection
    # to close checkpoints the WAL with fsyncs, which a connection per request paid on
    # every write (the write floor ran about 3x slower, bench/http_bench.py).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# A database that accepts connections and never answers (a hung PostgreSQL, PgBouncer
# waiting for a dead one) costs a request seconds and a 503 JSON with Retry-After, not the
# worker until gunicorn kills it (docs/production.md, "When the database hangs"):
# libpq gives up connecting after DATABASE_CONNECT_TIMEOUT seconds, and PostgreSQL cancels
# a statement (a lock wait, a runaway query) after DATABASE_STATEMENT_TIMEOUT (0: never).
DATABASE_CONNECT_TIMEOUT = env.integer("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
DATABASE_STATEMENT_TIMEOUT = env.integer("DATABASE_STATEMENT_TIMEOUT", 10, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    # Django's backend; its health check polls the socket before it sends a SELECT 1.
    DATABASES["default"]["ENGINE"] = "authsite.postgresql"

# PgBouncer in transaction pooling mode (docs/production.md, "Running on PostgreSQL"): each
# transaction may run on a different server connection, so nothing may outlive one.
# Django's server-side cursors for .iterator() are declared WITH HOLD outside a
# transaction, and a prepared statement (psycopg's prepare_threshold) lives in one
# server connection: the next transaction could find neither. The session's own work
# (SELECT ... FOR UPDATE, the revoking UPDATE) is one transaction and needs nothing else.
DATABASE_POOLING = env.choice("DATABASE_POOLING", "none", ("none", "transaction"))
if DATABASE_POOLING == "transaction":
    if DATABASES["default"]["ENGINE"] != "authsite.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_POOLING=transaction needs a postgres:// DATABASE_URL (PgBouncer)."
        )
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # dj-database-url turns ?prepare_threshold=N in DATABASE_URL into an option.
    if _options.get("prepare_threshold") is not None:
        raise ImproperlyConfigured(
            "DATABASE_POOLING=transaction cannot use prepared statements: remove "
            "prepare_threshold from DATABASE_URL."
        )
    # Django's default cursors bind parameters client-side and never prepare; with
    # ?server_side_binding=true they would, after prepare_threshold uses. Django 5.2
    # passes None (never) unless told otherwise; pinned so that holds whatever the URL
    # or a later Django says. Server-side binding itself is fine: unnamed statements.
    _options["prepare_threshold"] = None
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
elif DATABASE_STATEMENT_TIMEOUT and DATABASES["default"]["ENGINE"] == "authsite.postgresql":
    # A startup option of the connection. PgBouncer refuses startup options, and a SET
    # would leak to other clients of a pooled connection: behind it the timeout is the
    # role's (ALTER ROLE ... SET statement_timeout, docs/production.md).
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join(
        filter(
            None, [_options.get("options"), f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT}s"]
        )
    )
if DATABASE_POOLING == "none" and DATABASES["default"]["ENGINE"] == "authsite.postgresql":
    # Prepared statements: psycopg binds parameters on the server and prepares a
    # statement from its second use on a connection, so PostgreSQL plans the hot
    # statements (a refresh's UPDATE, an authenticated request's join) once per
    # connection instead of on every request, which was half of their server time
    # (docs/performance.md). Only on a direct connection: a prepared statement lives in
    # one server connection. The URL's ?server_side_binding= and ?prepare_threshold= win.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("server_side_binding", True)
    _options.setdefault("prepare_threshold", 2)

# The cache holds the rate-limit counters. Django's own Redis backend, with one client
# per pool and a one-round-trip incr (authsite/cache.py): no extra dependency, and add/incr
# are Redis SET NX / INCRBY, atomic across processes and hosts. It gives up on a hung
# Redis after half a second (503); REDIS_URL's ?socket_timeout= changes that.
REDIS_URL = env.optional("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "authsite.cache.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# django-ratelimit's W001 only knows django-redis and memcached; Django's RedisCache
# is just as atomic, so the warning says nothing true here.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
if not REDIS_URL:
    # Without REDIS_URL the counters live in one process (development, a single
    # worker). django-ratelimit's E003 would stop check, migrate and runserver for
    # that; tokens.E002 says it instead, only under `check --deploy` and only when DEBUG
    # is off, where it fails (see tokens/checks.py).
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Tokens and sessions: the tokens app's one setting, TOKENS (tokens/settings.py), from
# the environment (docs/settings.md). Contradictions (SameSite=None without Secure, a
# key that does not fit its algorithm) are the app's system checks (tokens/checks.py):
# `manage.py check`, migrate and runserver stop on them.
_access_token_lifetime = timedelta(seconds=env.integer("ACCESS_TOKEN_LIFETIME", 3600, minimum=1))
_cookie_secure = env.boolean("REFRESH_TOKEN_COOKIE_SECURE", False)
TOKENS = {
    "REFRESH_TOKEN_LIFETIME": timedelta(
        seconds=env.integer("REFRESH_TOKEN_LIFETIME", 604800, minimum=1)
    ),
    "REFRESH_TOKEN_ABSOLUTE_LIFETIME": timedelta(
        seconds=env.integer("REFRESH_TOKEN_ABSOLUTE_LIFETIME", 2592000, minimum=1)
    ),
    "REFRESH_TOKEN_REMEMBER_ME_LIFETIME": timedelta(
        seconds=env.integer("REFRESH_TOKEN_REMEMBER_ME_LIFETIME", 2592000, minimum=1)
    ),
    "REFRESH_TOKEN_ROTATE": env.boolean("REFRESH_TOKEN_ROTATE", True),
    "REFRESH_TOKEN_REUSE_INTERVAL": timedelta(
        seconds=env.integer("REFRESH_TOKEN_REUSE_INTERVAL", 10, minimum=0)
    ),
    "REFRESH_TOKEN_COOKIE_NAME": env.string("REFRESH_TOKEN_COOKIE_NAME", "refresh_token"),
    "REFRESH_TOKEN_COOKIE_SECURE": _cookie_secure,
    "REFRESH_TOKEN_COOKIE_SAMESITE": env.choice(
        "REFRESH_TOKEN_COOKIE_SAMESITE", "lax", ("lax", "strict", "none")
    ).capitalize(),
    # authsite/urls.py mounts the app at /api/auth/ (the contract's cookie path).
    "REFRESH_TOKEN_COOKIE_PATH": "/api/auth",
    "SESSIONS_PER_USER_LIMIT": env.integer("SESSIONS_PER_USER_LIMIT", 100, minimum=0),
    # Step-up (tokens.permissions.RecentLogin): revoking another session and logout-all
    # need a password proof this recent; 0 turns it off.
    "REAUTHENTICATION_MAX_AGE": env.integer("REAUTHENTICATION_MAX_AGE", 600, minimum=0),
    "TRUSTED_PROXY_COUNT": env.integer("TRUSTED_PROXY_COUNT", 0, minimum=0),
    "RATE_LIMIT_DEFAULT": env.rate("RATE_LIMIT_DEFAULT", "60/m"),
    "RATE_LIMIT_LOGIN": env.rate("RATE_LIMIT_LOGIN", "5/m"),
    "DEVICE_COOKIE_NAME": env.string("DEVICE_COOKIE_NAME", "known_device"),
    "DEVICE_COOKIE_LIFETIME": timedelta(
        seconds=env.integer("DEVICE_COOKIE_LIFETIME", 31536000, minimum=1)
    ),
}

# Security notifications (docs/notifications.md): emails about a sign-in
# from a new device, a stolen refresh token and a password change, sent off the request
# path: the request stores a task in the database (django-tasks' database backend) and
# `manage.py task_worker` sends it (tokens.worker: db_worker with a lease).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# EMAIL_URL (dj-email-url): smtp://user:password@host:25, submission://user:pw@host
# (port 587, STARTTLS), smtp://host:465?ssl=true, console://; unset: the console
# backend prints each email. A filebased one, file:////var/mail/authsite, is for tests.
_email = dj_email_url.parse(env.string("EMAIL_URL", "console://"))
if "EMAIL_BACKEND" not in _email:  # dj-email-url would fall back to SMTP on a typo
    raise ImproperlyConfigured(
        "EMAIL_URL must start with one of "
        + ", ".join(f"{scheme}://" for scheme in dj_email_url.SCHEMES)
        + "."
    )
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"] or None
# A worker never hangs on an SMTP server that stopped answering: seconds, ?timeout=N.
EMAIL_TIMEOUT = _email["EMAIL_TIMEOUT"] or 10
DEFAULT_FROM_EMAIL = env.string(
    "DEFAULT_FROM_EMAIL", _email.get("DEFAULT_FROM_EMAIL", "authsite <noreply@localhost>")
)
# Where people reach the web page (links in the emails); the page lists the sessions.
PUBLIC_URL = env.string("PUBLIC_URL", "http://localhost:8000").rstrip("/")
if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", PUBLIC_URL):
    raise ImproperlyConfigured(f"PUBLIC_URL must be an http(s) URL, got {PUBLIC_URL!r}.")
TOKENS["SECURITY_NOTIFICATIONS"] = True
TOKENS["SECURITY_NOTIFICATION_SESSIONS_URL"] = f"{PUBLIC_URL}/#sessions"
TOKENS["SECURITY_NOTIFICATION_RATE"] = env.rate("SECURITY_NOTIFICATION_RATE", "10/h")
# A failed send is tried again after this many seconds, doubled after each failure.
TOKENS["SECURITY_NOTIFICATION_RETRY_DELAY"] = timedelta(
    seconds=env.integer("SECURITY_NOTIFICATION_RETRY_DELAY", 60, minimum=1)
)
# The task worker (manage.py task_worker): a task a dead worker left RUNNING runs again
# after TASK_LEASE seconds, at most TASK_MAX_CLAIMS times (docs/notifications.md).
TOKENS["TASK_LEASE"] = timedelta(seconds=env.integer("TASK_LEASE", 300, minimum=1))
TOKENS["TASK_MAX_CLAIMS"] = env.integer("TASK_MAX_CLAIMS", 3, minimum=1)
# Access tokens for other services (tokens/signing.py; docs/access-tokens.md). HS256
# signs with SECRET_KEY (SIMPLE_JWT below) and publishes nothing;
# ES256 or EdDSA sign with a private key, and GET /.well-known/jwks.json publishes its
# public half (and the verifying keys') so resource servers verify tokens themselves.
# Keys are checked here, so a bad one stops start-up naming its variable.
_signing_key = env.text_or_file("ACCESS_TOKEN_SIGNING_KEY")
_dpop_nonce_seconds = env.integer("DPOP_NONCE_LIFETIME", 0, minimum=0)
TOKENS.update(
    ACCESS_TOKEN_ALGORITHM=signing.canonical_algorithm(
        env.choice("ACCESS_TOKEN_ALGORITHM", "hs256", tuple(a.lower() for a in signing.ALGORITHMS))
    ),
    ACCESS_TOKEN_SIGNING_KEY=_signing_key[1] if _signing_key else None,
    ACCESS_TOKEN_VERIFYING_KEYS=[
        pem for _name, pem in env.files("ACCESS_TOKEN_VERIFYING_KEY_FILES")
    ],
    JWKS_MAX_AGE=timedelta(seconds=env.integer("JWKS_MAX_AGE", 300, minimum=0)),
    # Services that may call POST /api/auth/introspect: "billing:<secret>,reports:<secret>".
    INTROSPECTION_CLIENTS=env.client_secrets("INTROSPECTION_CLIENTS"),
    RATE_LIMIT_INTROSPECTION=env.rate("RATE_LIMIT_INTROSPECTION", "600/m"),
    # DPoP (RFC 9449, docs/dpop.md): how far a proof's iat may be from our clock, and
    # whether every session must be bound to a client's key.
    DPOP_PROOF_WINDOW=timedelta(seconds=env.integer("DPOP_PROOF_WINDOW", 60, minimum=1)),
    DPOP_REQUIRED=env.boolean("DPOP_REQUIRED", False),
    # Server nonces: seconds each nonce lasts; 0 (the default) turns them off.
    DPOP_NONCE_LIFETIME=timedelta(seconds=_dpop_nonce_seconds) if _dpop_nonce_seconds else None,
)

# Frontends on other origins: CORS with credentials (django-cors-headers), and trusted
# by the Origin check of cookie-authenticated requests (tokens/permissions.py).
CORS_ALLOWED_ORIGINS = env.csv("CORS_ALLOWED_ORIGINS")
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/api/.*$"
# A frontend on another origin sends its DPoP proofs (RFC 9449, docs/dpop.md) too.
CORS_ALLOW_HEADERS = (*cors_default_headers, "dpop")
# A 429's (or a 503's) Retry-After is the page's to read: how long to wait.
CORS_EXPOSE_HEADERS = ["Retry-After", "DPoP-Nonce"]

# HTTPS deployment (docs/production.md, "Production environment"): all off by default so a
# plain-HTTP run on loopback works; `manage.py check --deploy` says what is missing.
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", False)
# The name of the header a TLS-terminating proxy sets to "https" (X-Forwarded-Proto).
# Only set it behind such a proxy: a client could send the header itself.
_proxy_ssl_header = env.optional("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header is not None:
    if not re.fullmatch(r"[A-Za-z0-9-]+", _proxy_ssl_header):
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto, "
            f"got {_proxy_ssl_header!r}."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
# Django's own session and CSRF cookies (the admin) follow the refresh cookie by default.
SESSION_COOKIE_SECURE = env.boolean("SESSION_COOKIE_SECURE", _cookie_secure)
CSRF_COOKIE_SECURE = env.boolean("CSRF_COOKIE_SECURE", _cookie_secure)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tokens.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "authsite.parsers.JSONParser",  # DRF's, with deep nesting a 400 rather than a 500
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "tokens.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# Rate limits (tokens/ratelimit.py): counters in the default cache, keyed by the
# client IP from tokens.caller. A cache that cannot count refuses (429) and one that
# cannot be reached answers 503: never "no limit".
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = False

SPECTACULAR_SETTINGS = {
    "TITLE": "authsite",
    "DESCRIPTION": (
        "Dual-token sessions: a short-lived bearer access token and an opaque refresh "
        'token in an HttpOnly cookie. Every error is JSON {"detail": "<CODE>"}.'
    ),
    "VERSION": "1.0.0",
    "LICENSE": {"name": "MIT", "url": "https://spdx.org/licenses/MIT.html"},
    # Where this deployment answers: a client generated from a dumped schema (and the
    # docs page's "Try it out") calls the public URL, not wherever the dump was made.
    "SERVERS": [{"url": PUBLIC_URL}],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's JavaScript and CSS come from drf-spectacular-sidecar: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI's defaults, without the badge that sends the schema's URL to
    # validator.swagger.io (the docs page's CSP would block it anyway: authsite/docs.py).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tokens.schema.add_common_responses",
    ],
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": _access_token_lifetime,
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
    # Optional "iss" and "aud" claims, set on every access token and required of every
    # token presented here; resource servers check them with the same SIMPLE_JWT
    # settings, so a token meant for one deployment or service is refused by another.
    "ISSUER": env.optional("ACCESS_TOKEN_ISSUER"),
    "AUDIENCE": env.optional("ACCESS_TOKEN_AUDIENCE"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "loggers": {
        "security": {"handlers": ["console"], "level": "INFO", "propagate": True},
        # A 500 is never silent. Django's default prints unhandled exceptions to the
        # console only with DEBUG on, and otherwise only mails ADMINS (often nobody):
        # here the traceback always reaches the console (gunicorn's error log). Not
        # propagated, so the DEBUG console does not print it twice; 4xx warnings
        # ("Not Found: ...") only in development, not for every scanner in production.
        "django.request": {
            "handlers": ["console", "mail_admins"],
            "level": "WARNING" if DEBUG else "ERROR",
            "propagate": False,
        },
    },
}
