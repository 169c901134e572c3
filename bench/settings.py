"""Benchmark settings: the project's, plus the floor views, a query counter and
simplejwt's blacklist app (so one ``migrate`` makes the tables of both servers).

``BENCH_PASSWORD_HASHER``: ``md5`` (default: login measures the service, not the
hash) or ``argon2`` (the production hasher). Only one hasher is listed, so a login
never re-hashes a seeded password with another one (which would change the password
and end the user's sessions).
"""

import os

from authsite.settings import *  # noqa: F403
from authsite.settings import INSTALLED_APPS, MIDDLEWARE, TOKENS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework_simplejwt.token_blacklist"]
ROOT_URLCONF = "bench.urls"
# First: its count covers every statement of the request, the middleware's included.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
PASSWORD_HASHERS = [
    {
        "md5": "django.contrib.auth.hashers.MD5PasswordHasher",
        "argon2": "django.contrib.auth.hashers.Argon2PasswordHasher",
    }[os.environ.get("BENCH_PASSWORD_HASHER", "md5")]
]
ALLOWED_HOSTS = ["*"]
# The limiter still runs on every request (its cost is part of each figure), with rates
# high enough that hundreds of requests from one client in a minute are not refused.
TOKENS = {**TOKENS, "RATE_LIMIT_DEFAULT": "100000000/m", "RATE_LIMIT_LOGIN": "100000000/m"}
