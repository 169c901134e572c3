"""`manage.py check` of this project's environment: quiet for a plain-HTTP loopback run,
strict with --deploy, contradictions named by their variable.

Settings are read from the environment at start-up, so each case is a real
``manage.py`` process with its own environment. (The checks themselves are the tokens
app's, tokens/tests/test_checks.py.)
"""

import subprocess
import sys

import pytest

from authsite.testing import ROOT, base_env

# docs/production.md, "Production environment".
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p6x!q2#n7v$w9r@k4m%t8y^b3c&h5j*z0s(d1f)g-u+e=a_l.Generate-your-own",
    "ALLOWED_HOSTS": "auth.example.com",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "REFRESH_TOKEN_COOKIE_SECURE": "true",
    "REFRESH_TOKEN_COOKIE_NAME": "__Secure-refresh_token",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "TRUSTED_PROXY_COUNT": "1",
}


def check(*args: str, **variables: str) -> subprocess.CompletedProcess:
    """``manage.py check`` with these variables (None: unset)."""
    env = base_env()
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_is_clean_with_the_documented_production_environment():
    result = check("--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_on_an_insecure_refresh_cookie():
    insecure = {
        "REFRESH_TOKEN_COOKIE_SECURE": "false",
        "REFRESH_TOKEN_COOKIE_NAME": "refresh_token",  # __Secure- would stop start-up
    }
    result = check("--deploy", **{**PRODUCTION, **insecure})
    assert result.returncode != 0
    assert "tokens.E001" in result.stderr
    assert "REFRESH_TOKEN_COOKIE_SECURE" in result.stderr


def test_deploy_check_fails_on_an_in_process_rate_limit_cache_and_says_why():
    result = check("--deploy", **{**PRODUCTION, "REDIS_URL": None})
    assert result.returncode != 0
    assert "tokens.E002" in result.stderr
    assert "one process" in result.stderr


@pytest.mark.parametrize("debug", ["true", "false"])
def test_plain_check_passes_for_a_plain_http_run_without_redis(debug):
    # What `migrate` and the server run: DEBUG off on loopback over HTTP must start.
    variables = {"DEBUG": debug, "REFRESH_TOKEN_COOKIE_SECURE": "false", "REDIS_URL": None}
    result = check(**variables)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"REFRESH_TOKEN_COOKIE_SAMESITE": "none"}, "REFRESH_TOKEN_COOKIE_SAMESITE"),
        ({"RATE_LIMIT_LOGIN": "lots"}, "RATE_LIMIT_LOGIN"),
        ({"REFRESH_TOKEN_COOKIE_NAME": "__Secure-refresh_token"}, "REFRESH_TOKEN_COOKIE_SECURE"),
        ({"REFRESH_TOKEN_COOKIE_NAME": "__Host-refresh_token"}, "REFRESH_TOKEN_COOKIE_NAME"),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"}, "SECURE_PROXY_SSL_HEADER"),
    ],
)
def test_contradictions_stop_plain_check_naming_the_variable(variables, named):
    result = check(**variables)
    assert result.returncode == 1
    assert named in result.stderr
