"""The Django admin's login form is rate-limited like the API login: RATE_LIMIT_LOGIN per
client IP, and failed password checks per submitted username (or per known device); 429
over a limit, without a password check."""

import datetime as dt

import pytest
import time_machine
from django.test import Client

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


# Only failed password checks spend the account's budget (contract, "Rate limits").


def strangers_fail(username="admin@example.com"):
    """Five wrong guesses from five addresses: the account's budget for unknown clients."""
    for n in range(5):
        assert submit(Client(), username=username, REMOTE_ADDR=f"198.51.100.{n}").status_code == 200


def test_a_form_without_a_password_spends_nothing(staff, password_checks):
    for n in range(20):
        stranger = Client()
        stranger.get(LOGIN)
        response = stranger.post(
            LOGIN, {"username": "admin@example.com"}, REMOTE_ADDR=f"198.51.100.{n}"
        )
        assert response.status_code == 200  # the form again: "This field is required."
    assert password_checks == []
    assert submit(Client(), password=PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 302


def test_successful_logins_spend_nothing(staff):
    for n in range(8):
        response = submit(Client(), password=PASSWORD, REMOTE_ADDR=f"198.51.100.{n}")
        assert response.status_code == 302
    strangers_fail()
    assert submit(Client(), REMOTE_ADDR="203.0.113.9").status_code == 429


def test_a_known_device_is_not_locked_out_by_strangers(staff):
    owner = Client()
    assert submit(owner, password=PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 302
    assert owner.cookies["known_device"]["path"] == "/"
    owner.post("/admin/logout/")
    strangers_fail()
    assert submit(Client(), password=PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert submit(owner, password=PASSWORD, REMOTE_ADDR="192.0.2.2").status_code == 302
    assert logged_in(owner)


def test_the_apis_device_cookie_is_known_to_the_admin_form(staff):
    owner = Client()
    api_login = owner.post(
        "/api/auth/login",
        {"email": "admin@example.com", "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.1",
    )
    assert api_login.status_code == 200
    strangers_fail()
    assert submit(owner, password=PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 302


def test_a_nul_in_the_username_is_refused_by_the_form_for_a_known_device(staff):
    # A known device's cookie makes the form look the account up before Django's form
    # refuses the NUL character; PostgreSQL refuses it in any query (a 500 here).
    owner = Client(raise_request_exception=False)
    assert submit(owner, password=PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 302
    owner.post("/admin/logout/")
    response = submit(owner, username="admin\x00@example.com", REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 200  # the form again, with its error
    assert not logged_in(owner)


def test_the_admins_password_form_keeps_the_browser_a_known_device(staff):
    # A new password voids every device cookie; the browser that set it has just
    # proved the old one, and must not become a client strangers can lock out.
    owner = Client()
    assert submit(owner, password=PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 302
    new_password = "a brand new passphrase 2030"
    changed = owner.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
        REMOTE_ADDR="192.0.2.1",
    )
    assert changed.status_code == 302
    owner.post("/admin/logout/")
    strangers_fail()
    assert submit(Client(), password=new_password, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert submit(owner, password=new_password, REMOTE_ADDR="192.0.2.1").status_code == 302
