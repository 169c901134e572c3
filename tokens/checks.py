"""System checks for settings that are unsafe in production.

Plain ``manage.py check`` (and so migrate and start-up) stays quiet about them, so a
plain-HTTP run with DEBUG off on loopback works; ``manage.py check --deploy`` fails.
Contradictory settings (SameSite=None without Secure) are refused earlier, in
authsite/settings.py, because no deployment can use them.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from tokens import extras, signing
from tokens.settings import tokens_settings

SHARED_CACHE_BACKENDS = {
    "tokens.cache.RedisCache",
    "django.core.cache.backends.redis.RedisCache",
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
}


def _rate_limit_cache_backend() -> str:
    # django-ratelimit's setting, with its default: a project need not set it.
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    return settings.CACHES.get(alias, {}).get("BACKEND", "")


@checks.register(checks.Tags.security, deploy=True)
def check_refresh_cookie_secure(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """E001: with DEBUG off the refresh cookie must be Secure (HTTPS only)."""
    if settings.DEBUG or tokens_settings.REFRESH_TOKEN_COOKIE_SECURE:
        return []
    return [
        checks.Error(
            "REFRESH_TOKEN_COOKIE_SECURE is false with DEBUG off: browsers send the "
            "refresh token, a 30-day credential, over plain HTTP to anyone on the path.",
            hint="Serve over HTTPS and set REFRESH_TOKEN_COOKIE_SECURE=true.",
            id="tokens.E001",
        )
    ]


@checks.register(checks.Tags.caches, deploy=True)
def check_rate_limit_cache_shared(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """E002: with DEBUG off the rate-limit counters must be shared by all workers.

    Stands in for django-ratelimit's E003, which settings.py silences when REDIS_URL is
    unset so that development and single-process runs start.
    """
    backend = _rate_limit_cache_backend()
    if settings.DEBUG or backend in SHARED_CACHE_BACKENDS:
        return []
    return [
        checks.Error(
            f"The rate-limit cache is {backend}, which lives inside one process: every "
            "worker and host keeps its own counters, so N workers allow N times each rate "
            "limit, and a restart resets them.",
            hint="Set REDIS_URL (e.g. redis://redis:6379/0) so all workers share one counter.",
            id="tokens.E002",
        )
    ]


@checks.register(checks.Tags.database)
def check_sqlite_supports_returning(app_configs, databases=None, **kwargs):
    """E003: revocation uses UPDATE ... RETURNING, which SQLite has since 3.35."""
    import sqlite3

    uses_sqlite = any(
        db["ENGINE"] == "django.db.backends.sqlite3" for db in settings.DATABASES.values()
    )
    if not uses_sqlite or sqlite3.sqlite_version_info >= (3, 35):
        return []
    return [
        checks.Error(
            f"SQLite {sqlite3.sqlite_version} is too old: revoking sessions needs "
            "UPDATE ... RETURNING (SQLite 3.35 or newer).",
            hint="Use a Python built against a newer SQLite, or PostgreSQL (DATABASE_URL).",
            id="tokens.E003",
        )
    ]


@checks.register(checks.Tags.security)
def check_access_token_keys(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """E004: the access-token algorithm and keys must make a key set (tokens/signing.py).

    authsite/settings.py refuses a bad key before this runs; this is for a project
    that sets ACCESS_TOKEN_* in its settings module without validating them.
    """
    try:
        signing.key_set()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="tokens.E004")]
    return []


@checks.register(checks.Tags.security)
def check_reauthentication_max_age(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """E005: REAUTHENTICATION_MAX_AGE is a whole number of seconds, 0 or more.

    RecentLogin reads 0 as "off": a negative value or a timedelta set by mistake would
    silently turn step-up off (or break every guarded request), so it is refused.
    """
    value = tokens_settings.REAUTHENTICATION_MAX_AGE
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return []
    return [
        checks.Error(
            f"REAUTHENTICATION_MAX_AGE must be a whole number of seconds, 0 or more "
            f"(0 turns step-up off), got {value!r}.",
            id="tokens.E005",
        )
    ]


@checks.register()
def check_extras_installed(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """E006: a setting asks for an optional part whose extra is not installed.

    (ES256 and EdDSA keys without the "keys" extra are tokens.E004's, whose message
    names the extra.)
    """
    wanted = []
    if tokens_settings.SECURITY_NOTIFICATIONS:
        wanted.append(("emails", "SECURITY_NOTIFICATIONS is on"))
    backend = _rate_limit_cache_backend()
    if "redis" in backend.lower():
        wanted.append(("redis", f"the rate-limit cache is {backend}"))
    return [
        checks.Error(
            f"{reason}, but {extras.missing(extra)}",
            hint=extras.install_hint(extra),
            id="tokens.E006",
        )
        for extra, reason in wanted
        if not extras.installed(extra)
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_security_emails_are_queued(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """W001: with DEBUG off, security emails should go through a queue and a worker.

    django-tasks' default backend (ImmediateBackend, used when TASKS is unset) sends
    each email inside the request that caused it: a slow mail server slows logins.
    """
    if settings.DEBUG or not tokens_settings.SECURITY_NOTIFICATIONS:
        return []
    if not extras.installed("emails"):
        return []  # tokens.E006
    from django_tasks import task_backends

    alias = tokens_settings.SECURITY_NOTIFICATION_TASK_BACKEND
    try:
        backend = task_backends[alias]
    except Exception:  # a misconfigured TASKS: django-tasks' own checks say why
        return []
    if backend.supports_defer:
        return []
    return [
        checks.Warning(
            f"Security emails go through the {type(backend).__name__} task backend, which "
            "sends each one inside the request that caused it (a login waits for the "
            "mail server) and cannot delay a retry.",
            hint='Queue them: TASKS = {"default": {"BACKEND": '
            '"django_tasks_db.DatabaseBackend"}}, "django_tasks_db" in INSTALLED_APPS, '
            "and run manage.py db_worker; or set SECURITY_NOTIFICATIONS to False.",
            id="tokens.W001",
        )
    ]
