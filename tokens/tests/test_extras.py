"""Optional parts: each an extra of the distribution. Missing, the feature is off by
default, and a setting that asks for it fails the system check naming the extra.
(CI also installs the bare wheel into a fresh virtual environment and follows
docs/adopting.md there: adoption/.)"""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from tokens import devices, extras, notifications, signing
from tokens.checks import check_extras_installed


@pytest.fixture
def without(monkeypatch):
    """Pretend these extras are not installed."""

    def make(*missing: str) -> None:
        real = extras.installed

        monkeypatch.setattr(extras, "installed", lambda extra: extra not in missing and real(extra))

    return make


def test_every_extra_is_installed_in_the_test_environment():
    assert all(extras.installed(extra) for extra in extras.EXTRAS)


def test_security_emails_asked_for_without_the_extra_fail_the_check(settings, without):
    without("emails")
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATIONS": True}
    [error] = check_extras_installed(None)
    assert error.id == "tokens.E006"
    assert "pip install 'drf-session-tokens[emails]'" in error.msg


def test_a_redis_cache_without_redis_fails_the_check(settings, without):
    without("redis")
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATIONS": False}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    [error] = check_extras_installed(None)
    assert "'redis' extra" in error.msg


def test_nothing_is_asked_for_nothing_is_reported(settings, without):
    without(*extras.EXTRAS)
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATIONS": False}
    assert check_extras_installed(None) == []


def test_without_the_emails_extra_notify_queues_nothing(settings, without, mailoutbox):
    without("emails")
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATIONS": True}
    notifications.notify(notifications.PASSWORD_CHANGED, 1)
    assert mailoutbox == []


def test_es256_without_the_keys_extra_names_it(without):
    without("keys")
    with pytest.raises(ImproperlyConfigured, match=r"drf-session-tokens\[keys\]"):
        signing.build(signing.ES256, hmac_secret="x", signing_pem="-----BEGIN...")
    assert signing.build(signing.HS256, hmac_secret="x").signing.algorithm == "HS256"


def test_without_ua_parser_every_device_is_unknown(without):
    # Never the User-Agent itself: the name goes into the security emails.
    agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
    assert devices.describe(agent) == "Chrome on Linux"
    without("devices")
    assert devices.describe(agent) == devices.UNKNOWN


def test_the_immediate_task_backend_is_a_deploy_warning(settings):
    settings.DEBUG = False
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATIONS": True}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "tokens.W001" in {message.id for message in found}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "tokens.W001" not in {message.id for message in found}


def test_dpop_required_without_the_extra_fails_the_check(settings, without):
    without("dpop")
    settings.TOKENS = {**settings.TOKENS, "SECURITY_NOTIFICATIONS": False, "DPOP_REQUIRED": True}
    [error] = check_extras_installed(None)
    assert "'dpop' extra" in error.msg


@pytest.mark.django_db
def test_without_the_dpop_extra_a_proof_is_ignored(api, user, without):
    """A server without DPoP ignores the header (RFC 9449 section 5): the session is not
    bound, and the token type tells the client so."""
    from tokens.models import RefreshToken
    from tokens.tests.dpop_keys import DpopKey
    from tokens.tests.fixtures import PASSWORD

    without("dpop")
    proof = DpopKey().proof("POST", "/api/auth/login")
    response = api.post(
        "/api/auth/login",
        {"username": user.get_username(), "password": PASSWORD},
        format="json",
        HTTP_DPOP=proof,
    )
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "bearer"
    assert RefreshToken.objects.get().dpop_jkt == ""
