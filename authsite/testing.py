"""This project as the tests start it in other processes: gunicorn serving authsite,
and its ``manage.py``, each with exactly the environment its test gives it; callers
stop what they start. The machinery is the tokens app's (``tokens.tests.live``); this
module only says how authsite runs.
"""

import sys
from pathlib import Path

from tokens.tests.live import STARTUP_SECONDS, Project, Server, free_port, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "authsite" / "gunicorn.conf.py"

AUTHSITE = Project(
    settings="authsite.settings",
    wsgi="authsite.wsgi:application",
    cwd=ROOT,
    manage_command=(sys.executable, "manage.py"),
    ready_path="/api/schema/",
    gunicorn_config=GUNICORN_CONF,
    # The environment variables authsite/settings.py reads that a test sets.
    own_variables=frozenset(
        {
            "DJANGO_ALLOW_ASYNC_UNSAFE",  # the browser tests set it while Chromium runs
            "DATABASE_URL",
            "DATABASE_CONNECT_TIMEOUT",
            "DATABASE_STATEMENT_TIMEOUT",
            "DATABASE_POOLING",
            "REDIS_URL",
            "DEBUG",
            "SECRET_KEY",
            "TRUSTED_PROXY_COUNT",
            "RATE_LIMIT_LOGIN",
            "RATE_LIMIT_DEFAULT",
            "CORS_ALLOWED_ORIGINS",
            "REFRESH_TOKEN_COOKIE_SECURE",
            "EMAIL_URL",
            "DEFAULT_FROM_EMAIL",
            "PUBLIC_URL",
            "SECURITY_NOTIFICATION_RATE",
            "SECURITY_NOTIFICATION_RETRY_DELAY",
            "TASK_LEASE",
            "TASK_MAX_CLAIMS",
            "ACCESS_TOKEN_ALGORITHM",
            "ACCESS_TOKEN_SIGNING_KEY",
            "ACCESS_TOKEN_SIGNING_KEY_FILE",
            "ACCESS_TOKEN_VERIFYING_KEY_FILES",
            "ACCESS_TOKEN_ISSUER",
            "ACCESS_TOKEN_AUDIENCE",
            "INTROSPECTION_CLIENTS",
            "RATE_LIMIT_INTROSPECTION",
            "JWKS_MAX_AGE",
        }
    ),
)
base_env = AUTHSITE.base_env
manage = AUTHSITE.manage
start_server = AUTHSITE.start_server

__all__ = [
    "AUTHSITE",
    "ROOT",
    "STARTUP_SECONDS",
    "Server",
    "base_env",
    "free_port",
    "manage",
    "skip_or_fail",
    "start_server",
]
