"""The fixtures of the tokens app's tests: a client, users, logins, and the settings
every test starts from. tokens/tests/conftest.py uses them, and so does the project
around the app (its root conftest.py): one set of fixtures for both."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from tokens.tests.live import skip_or_fail

PASSWORD = "correct horse battery staple"
# The instant ``frozen`` holds the clock at.
NOW = dt.datetime(2030, 1, 1, 12, 0, 0, tzinfo=dt.UTC)

# Every fixture, the autouse ones (named _...) too: conftest modules import them with *.
__all__ = [
    "PASSWORD",
    "_cheap_hashing",
    "_fresh_rate_limits",
    "_postgres_only",
    "_redis_only",
    "_tasks_run_at_once",
    "api",
    "bearer",
    "contract_rates",
    "frozen",
    "login",
    "make_user",
    "password_checks",
    "user",
]


@pytest.fixture(autouse=True)
def _cheap_hashing(settings):
    # Argon2 is deliberately slow; tests that are about hashing set their own hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    # Rate-limit counters live in the cache: each test gets an empty in-process one, so
    # tests never share a budget, and a REDIS_URL in the environment is never touched.
    # Limits are out of the way of tests about other things; tokens/tests/test_ratelimit.py
    # puts the contract's defaults back.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
    }
    settings.TOKENS = {
        **settings.TOKENS,
        "RATE_LIMIT_LOGIN": "100000/m",
        "RATE_LIMIT_DEFAULT": "100000/m",
    }


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    # Security emails (tokens.notifications) are sent in the test's own thread when their
    # transaction commits, into Django's mail.outbox: no worker needed. Production's
    # database queue is tested where it matters (tokens/tests/test_queries.py counts
    # its INSERT, tokens/tests/test_notifications_worker.py runs the real worker).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _redis_only(request):
    if request.node.get_closest_marker("redis") is None:
        return
    from tokens.tests import live

    live.skip_or_fail_without_redis()


@pytest.fixture(autouse=True)
def _postgres_only(request):
    if request.node.get_closest_marker("postgres") is None:
        return
    if connection.vendor == "postgresql":
        return
    skip_or_fail(
        "REQUIRE_POSTGRES",
        "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name>",
    )


@pytest.fixture
def contract_rates(settings):
    """The contract's default rates, for the tests of the limits (_fresh_rate_limits
    raises them for every other test): ``pytest.mark.usefixtures("contract_rates")``."""
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_LOGIN": "5/m", "RATE_LIMIT_DEFAULT": "60/m"}


@pytest.fixture
def frozen():
    """The clock held at NOW (rate-limit windows, expiries): its traveller moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make_user(db):
    """A user of whatever AUTH_USER_MODEL is: ``email`` is its login name (the username
    with Django's stock User, the email address in a project that logs in by email)."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()

    def make(email="alice@example.com", password=PASSWORD, **extra):
        fields = {user_model.USERNAME_FIELD: email, "password": password, **extra}
        return user_model._default_manager.create_user(**fields)

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def login(api):
    """Log in through the API; returns the response (cookie kept by the client)."""

    def do(email="alice@example.com", password=PASSWORD, client=None, **extra):
        client = client or api
        response = client.post(
            "/api/auth/login", {"email": email, "password": password, **extra}, format="json"
        )
        assert response.status_code == 200, response.content
        return response

    return do


@pytest.fixture
def bearer():
    """Headers that carry a login or refresh response's access token."""

    def headers(response) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}

    return headers


@pytest.fixture
def password_checks(monkeypatch):
    """The usernames of every password check made (ModelBackend.authenticate calls)."""
    from django.contrib.auth.backends import ModelBackend

    calls = []
    real = ModelBackend.authenticate

    def spy(self, request, username=None, password=None, **kwargs):
        calls.append(username)
        return real(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", spy)
    return calls
