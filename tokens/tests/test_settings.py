"""The app's one setting, TOKENS: defaults, unknown keys refused, reloaded when it
changes, and the system checks of what no deployment can use."""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tokens import checks as tokens_checks
from tokens.settings import DEFAULTS, tokens_settings, user_settings


def ids(found) -> set[str]:
    return {message.id for message in found}


def test_every_key_has_a_default_and_an_override_takes_effect_at_once(settings):
    settings.TOKENS = {}
    assert tokens_settings.REFRESH_TOKEN_COOKIE_PATH == DEFAULTS["REFRESH_TOKEN_COOKIE_PATH"]
    settings.TOKENS = {"REFRESH_TOKEN_COOKIE_PATH": "/auth"}
    assert tokens_settings.REFRESH_TOKEN_COOKIE_PATH == "/auth"
    with override_settings(TOKENS={"SESSIONS_PER_USER_LIMIT": 3}):
        assert tokens_settings.SESSIONS_PER_USER_LIMIT == 3
        assert tokens_settings.REFRESH_TOKEN_COOKIE_PATH == "/api/auth"
    assert tokens_settings.SESSIONS_PER_USER_LIMIT == DEFAULTS["SESSIONS_PER_USER_LIMIT"]


def test_an_unknown_key_is_refused_with_a_suggestion(settings):
    settings.TOKENS = {"REFRESH_TOKEN_LIFETME": 5}
    with pytest.raises(ImproperlyConfigured, match="Did you mean 'REFRESH_TOKEN_LIFETIME'"):
        user_settings()
    with pytest.raises(ImproperlyConfigured, match="REFRESH_TOKEN_LIFETME"):
        tokens_settings.REFRESH_TOKEN_LIFETIME  # noqa: B018


def test_tokens_settings_cannot_be_written():
    with pytest.raises(AttributeError, match="change the TOKENS setting"):
        tokens_settings.SESSIONS_PER_USER_LIMIT = 1


@pytest.mark.parametrize(
    ("cookie", "says"),
    [
        ({"REFRESH_TOKEN_COOKIE_SAMESITE": "None"}, "SameSite=None cookies that are not Secure"),
        ({"REFRESH_TOKEN_COOKIE_SAMESITE": "sometimes"}, '"Lax", "Strict" or "None"'),
        ({"REFRESH_TOKEN_COOKIE_NAME": "__Secure-rt"}, "starts with __Secure-"),
        (
            {"REFRESH_TOKEN_COOKIE_NAME": "__Host-rt", "REFRESH_TOKEN_COOKIE_SECURE": True},
            "cannot start with __Host-",
        ),
        ({"REFRESH_TOKEN_COOKIE_PATH": "api/auth"}, "must start with /"),
        ({"DEVICE_COOKIE_NAME": "refresh_token"}, "are the same"),
    ],
)
def test_cookie_attributes_browsers_refuse_are_errors(settings, cookie, says):
    settings.TOKENS = cookie
    [error] = tokens_checks.check_refresh_cookie_attributes(None)
    assert error.id == "tokens.E007"
    assert says in error.msg


def test_a_secure_samesite_none_cookie_is_fine(settings):
    settings.TOKENS = {
        "REFRESH_TOKEN_COOKIE_SAMESITE": "None",
        "REFRESH_TOKEN_COOKIE_SECURE": True,
        "REFRESH_TOKEN_COOKIE_NAME": "__Secure-refresh_token",
    }
    assert tokens_checks.check_refresh_cookie_attributes(None) == []


def test_urls_outside_the_cookie_path_are_an_error(settings):
    assert tokens_checks.check_cookie_path_covers_the_urls(None) == []
    settings.TOKENS = {"REFRESH_TOKEN_COOKIE_PATH": "/auth"}
    [error] = tokens_checks.check_cookie_path_covers_the_urls(None)
    assert error.id == "tokens.E008"
    assert "/api/auth/refresh" in error.msg


def test_a_tokens_setting_at_the_top_level_is_a_warning(settings):
    settings.REFRESH_TOKEN_COOKIE_SECURE = True  # where the app never reads it
    found = tokens_checks.check_settings_outside_tokens(None)
    assert ids(found) == {"tokens.W002"}
    assert "TOKENS['REFRESH_TOKEN_COOKIE_SECURE']" in found[0].msg


def test_simplejwt_algorithm_is_dead_configuration(settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ALGORITHM": "RS256"}
    assert ids(tokens_checks.check_settings_outside_tokens(None)) == {"tokens.W003"}


def test_the_project_under_test_passes_every_check():
    found = checks.run_checks(include_deployment_checks=False)
    assert [message for message in found if message.id.startswith("tokens.")] == []
