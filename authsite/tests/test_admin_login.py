"""The Django admin's login form is rate-limited like the API login: RATE_LIMIT_LOGIN per
client IP and per submitted username, 429 over the limit, without a password check."""

import datetime as dt

import pytest
import time_machine

from tokens.tests.fixtures import PASSWORD

LOGIN = "/admin/login/"
NOW = dt.datetime(2030, 1, 1, 12, 0, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _contract_rate(settings):
    # conftest raises it for every other test
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_LOGIN": "5/m"}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(make_user):
    return make_user(email="admin@example.com", is_staff=True, is_superuser=True)


def submit(client, username="admin@example.com", password="wrong", **meta):
    """POST the admin's own login form, as a browser would after loading it."""
    page = client.get(LOGIN, **meta)
    assert page.status_code == 200
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **meta
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sixth_wrong_guess_is_429_and_a_right_password_is_refused_too(
    client, staff, password_checks
):
    for _ in range(5):
        assert submit(client).status_code == 200  # the form again, with its error
    assert len(password_checks) == 5
    refused = submit(client)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    right = submit(client, password=PASSWORD)
    assert right.status_code == 429
    assert not logged_in(client)
    assert len(password_checks) == 5  # nothing checked once over the limit


def test_limited_per_username_across_many_ips(client, staff):
    spellings = ["admin@example.com", "ADMIN@example.com", " Admin@Example.COM "]
    for n in range(5):
        response = submit(client, username=spellings[n % 3], REMOTE_ADDR=f"198.51.100.{n}")
        assert response.status_code == 200
    assert submit(client, REMOTE_ADDR="203.0.113.99").status_code == 429
    # Another account from a fresh address is unaffected.
    assert submit(client, username="bob@example.com", REMOTE_ADDR="203.0.113.98").status_code == 200


def test_limited_per_ip_across_many_usernames(client, staff):
    for n in range(5):
        assert submit(client, username=f"user{n}@example.com").status_code == 200
    assert submit(client, username="someone@example.com").status_code == 429


def test_only_posts_count(client, staff):
    for _ in range(10):
        assert client.get(LOGIN).status_code == 200
    response = submit(client, password=PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_an_unreachable_rate_limit_cache_refuses_rather_than_counts_nothing(
    client, staff, settings, password_checks
):
    from authsite.testing import free_port

    client.get(LOGIN)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    response = client.post(LOGIN, {"username": "admin@example.com", "password": PASSWORD})
    assert response.status_code == 503
    assert password_checks == []
