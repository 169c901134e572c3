"""System checks of the tokens app's settings and of the SQLite it may run on.

Plain ``manage.py check`` (and so migrate and runserver) stops on what no deployment
can use: an SQLite without ``UPDATE ... RETURNING`` (E003), access-token keys that do
not fit their algorithm (E004), a step-up age that is not whole seconds (E005), a
feature whose extra is missing (E006), cookies browsers would drop or that would
overwrite each other (E007), a refresh URL the cookie never reaches (E008); it warns of
settings the app ignores (W002, W003). ``check --deploy`` with DEBUG off adds what is
only unsafe in production, so a plain-HTTP run on loopback works: a cookie sent over
plain HTTP (E001), rate-limit counters in one process (E002), rate limits switched off
(E009), security emails sent inside the request (W001). A key of ``TOKENS`` that the
app does not have stops start-up (``TokensConfig.ready``).
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from tokens import extras, signing
from tokens.settings import DEFAULTS, SETTING_NAME, tokens_settings

# Caches whose counters every worker and host share, and whose add/incr are atomic;
# their subclasses count too (a project's tuned Redis client, say).
SHARED_CACHE_BACKENDS = (
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.BaseMemcachedCache",
    "django_redis.cache.RedisCache",
)


def _rate_limit_cache_backend() -> str:
    # django-ratelimit's setting, with its default: a project need not set it.
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    return settings.CACHES.get(alias, {}).get("BACKEND", "")


def _is_shared(backend: str) -> bool:
    try:
        cls = import_string(backend)
    except ImportError:
        return backend in SHARED_CACHE_BACKENDS  # django_redis, when it is not installed
    return any(
        f"{base.__module__}.{base.__qualname__}" in SHARED_CACHE_BACKENDS for base in cls.__mro__
    )


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

    Stands in for django-ratelimit's E003 (which stops even development runs, and which
    a project may silence for them) only where it matters.
    """
    backend = _rate_limit_cache_backend()
    if settings.DEBUG or _is_shared(backend):
        return []
    return [
        checks.Error(
            f"The rate-limit cache is {backend}, which lives inside one process: every "
            "worker and host keeps its own counters, so N workers allow N times each rate "
            "limit, and a restart resets them.",
            hint="Use a cache every worker shares, e.g. Redis (the 'redis' extra): CACHES "
            '= {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", '
            '"LOCATION": "redis://..."}}.',
            id="tokens.E002",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_rate_limits_enabled(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """E009: with DEBUG off, django-ratelimit's RATELIMIT_ENABLE must not be False.

    It switches off every limit the app counts (tokens.counters reads it), the
    per-account and per-device password-guess budgets with them: an unlimited guessing
    service, silently.
    """
    if settings.DEBUG or getattr(settings, "RATELIMIT_ENABLE", True):
        return []
    return [
        checks.Error(
            "RATELIMIT_ENABLE is False: no rate limit is enforced, not even the "
            "password-guess budgets of login, reauthenticate and change-password.",
            hint="Remove RATELIMIT_ENABLE from the production settings (it is for tests).",
            id="tokens.E009",
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

    Keys are PEM text in TOKENS (a project reads them from files or its secret store).
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
    if tokens_settings.DPOP_REQUIRED:
        wanted.append(("dpop", "DPOP_REQUIRED is on"))
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
            "and run manage.py task_worker; or set SECURITY_NOTIFICATIONS to False.",
            id="tokens.W001",
        )
    ]


@checks.register(checks.Tags.security)
def check_refresh_cookie_attributes(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """E007: cookie attributes that browsers refuse together (the cookie would be dropped)."""
    name = tokens_settings.REFRESH_TOKEN_COOKIE_NAME
    secure = tokens_settings.REFRESH_TOKEN_COOKIE_SECURE
    samesite = tokens_settings.REFRESH_TOKEN_COOKIE_SAMESITE
    path = tokens_settings.REFRESH_TOKEN_COOKIE_PATH
    problems = []
    if samesite not in ("Lax", "Strict", "None"):
        problems.append(
            f'REFRESH_TOKEN_COOKIE_SAMESITE must be "Lax", "Strict" or "None", got {samesite!r}.'
        )
    elif samesite == "None" and not secure:
        problems.append(
            "REFRESH_TOKEN_COOKIE_SAMESITE None requires REFRESH_TOKEN_COOKIE_SECURE "
            "(browsers drop SameSite=None cookies that are not Secure)."
        )
    # Cookie name prefixes are promises browsers enforce (RFC 6265bis): a __Secure-
    # cookie without Secure is dropped, and __Host- needs Secure and Path=/.
    if name.startswith("__Secure-") and not secure:
        problems.append(
            "REFRESH_TOKEN_COOKIE_NAME starts with __Secure-, which requires "
            "REFRESH_TOKEN_COOKIE_SECURE (browsers drop the cookie otherwise)."
        )
    if name.startswith("__Host-"):
        problems.append(
            "REFRESH_TOKEN_COOKIE_NAME cannot start with __Host-: that prefix requires "
            f"Path=/ and the refresh cookie is scoped to Path={path} (it must reach no other "
            "URL); use __Secure- instead."
        )
    if not path.startswith("/"):
        problems.append(f"REFRESH_TOKEN_COOKIE_PATH must start with /, got {path!r}.")
    if tokens_settings.DEVICE_COOKIE_NAME == name:
        problems.append(
            "DEVICE_COOKIE_NAME and REFRESH_TOKEN_COOKIE_NAME are the same: each login "
            "would overwrite one cookie with the other."
        )
    return [checks.Error(problem, id="tokens.E007") for problem in problems]


@checks.register(checks.Tags.urls)
def check_cookie_path_covers_the_urls(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """E008: the refresh endpoint must lie under REFRESH_TOKEN_COOKIE_PATH, or browsers
    never send it the cookie (every refresh would be REFRESH_TOKEN_MISSING)."""
    from django.urls import get_resolver

    from tokens.views import RefreshView

    path = tokens_settings.REFRESH_TOKEN_COOKIE_PATH.rstrip("/")
    mounted = list(_paths_of(RefreshView, get_resolver().url_patterns))
    if not mounted or any(url == path or url.startswith(path + "/") for url in mounted):
        return []  # not mounted (a project may use the services alone), or covered
    return [
        checks.Error(
            f"The refresh endpoint is at {mounted[0]}, outside REFRESH_TOKEN_COOKIE_PATH "
            f"({tokens_settings.REFRESH_TOKEN_COOKIE_PATH}): browsers would never send it "
            "the refresh cookie.",
            hint='Mount the app there, path("api/auth/", include("tokens.urls")), or set '
            f'{SETTING_NAME}["REFRESH_TOKEN_COOKIE_PATH"] to where you mounted it.',
            id="tokens.E008",
        )
    ]


def _paths_of(view_class, patterns, prefix: str = "/"):
    """The URLs (without converters' values) where ``view_class`` is routed."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if hasattr(pattern, "url_patterns"):
            yield from _paths_of(view_class, pattern.url_patterns, route)
        elif getattr(pattern.callback, "view_class", None) is view_class:
            yield route.rstrip("/")


@checks.register()
def check_settings_outside_tokens(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """W002: a setting of the app set at the top level, where the app never reads it;
    W003: SIMPLE_JWT["ALGORITHM"], which the app does not use either."""
    found = [
        checks.Warning(
            f"settings.{name} is ignored: the tokens app reads {SETTING_NAME}[{name!r}].",
            hint=f"Move it into {SETTING_NAME} = {{...}}.",
            id="tokens.W002",
        )
        for name in DEFAULTS
        if hasattr(settings, name)
    ]
    algorithm = (getattr(settings, "SIMPLE_JWT", None) or {}).get("ALGORITHM")
    if algorithm is not None and algorithm != tokens_settings.ACCESS_TOKEN_ALGORITHM:
        found.append(
            checks.Warning(
                f'SIMPLE_JWT["ALGORITHM"] ({algorithm}) is ignored: access tokens are signed '
                f"with {SETTING_NAME}['ACCESS_TOKEN_ALGORITHM'] "
                f"({tokens_settings.ACCESS_TOKEN_ALGORITHM}).",
                hint='Remove SIMPLE_JWT["ALGORITHM"]; set the algorithm in TOKENS.',
                id="tokens.W003",
            )
        )
    return found
