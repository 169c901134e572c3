"""The app's system checks (tokens/checks.py), in-process against the test project's
settings."""

from django.core import checks


def test_old_sqlite_is_refused_by_a_system_check(monkeypatch, settings):
    import sqlite3

    from tokens.checks import check_sqlite_supports_returning

    # The check reads the configured engine only; the live connection is untouched.
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    assert check_sqlite_supports_returning(None) == []
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")
    [error] = check_sqlite_supports_returning(None)
    assert error.id == "tokens.E003"
    assert "3.34.1" in error.msg


def test_deploy_checks_run_in_a_project_that_never_heard_of_django_ratelimit(settings):
    """A project that sets none of django-ratelimit's settings (RATELIMIT_USE_CACHE)
    gets check results, not an AttributeError, from ``check --deploy``."""
    del settings.RATELIMIT_USE_CACHE
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.caches])
    assert "tokens.E002" in {message.id for message in found}


def test_deploy_checks_refuse_rate_limits_switched_off_with_debug_off(settings):
    settings.DEBUG = False
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "tokens.E009" not in {message.id for message in found}
    settings.RATELIMIT_ENABLE = False
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "tokens.E009" in {message.id for message in found}
    settings.DEBUG = True  # a development run may switch them off
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "tokens.E009" not in {message.id for message in found}


def test_deploy_checks_want_a_secure_cookie_with_debug_off(settings):
    settings.DEBUG = False
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "tokens.E001" in {message.id for message in found}
    settings.TOKENS = {**settings.TOKENS, "REFRESH_TOKEN_COOKIE_SECURE": True}
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "tokens.E001" not in {message.id for message in found}
