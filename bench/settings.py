"""Benchmark settings: the project's, plus simplejwt's blacklist app to compare against."""

from authsite.settings import *  # noqa: F403
from authsite.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework_simplejwt.token_blacklist"]
ROOT_URLCONF = "bench.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
# The limiter still runs on every request (its cost is part of each figure), with rates
# high enough that hundreds of requests from one client in a minute are not refused.
RATE_LIMIT_DEFAULT = "1000000/m"
RATE_LIMIT_LOGIN = "1000000/m"
