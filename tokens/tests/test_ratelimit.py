"""Rate limits: per view, by client IP (and login by email), 429 RATE_LIMITED + Retry-After."""

import pytest

from tokens import services
from tokens.errors import RATE_LIMITED, SERVICE_UNAVAILABLE
from tokens.settings import tokens_settings

pytestmark = pytest.mark.usefixtures("contract_rates")

LOGIN = "/api/auth/login"


def attempt(api, email="alice@example.com", password="wrong", **meta):
    return api.post(LOGIN, {"email": email, "password": password}, format="json", **meta)


@pytest.mark.django_db
def test_sixth_login_from_one_ip_is_refused_with_retry_after(api, user, frozen):
    for _ in range(5):
        assert attempt(api).status_code == 400
    refused = attempt(api)
    assert refused.status_code == 429
    assert refused.json() == {"detail": RATE_LIMITED}
    retry_after = int(refused["Retry-After"])
    assert 1 <= retry_after <= 60

    # Retry-After is exact: one second early is still refused, on time is served.
    frozen.shift(retry_after - 1)
    assert attempt(api).status_code == 429
    frozen.shift(1)
    assert attempt(api).status_code == 400


@pytest.mark.django_db
def test_a_good_password_is_refused_too_once_over_the_limit(api, user, frozen):
    for _ in range(5):
        attempt(api)
    assert attempt(api, password="correct horse battery staple").status_code == 429


@pytest.mark.django_db
def test_options_and_get_do_not_spend_the_budget(api, frozen):
    for _ in range(10):
        assert api.options(LOGIN).status_code == 200
        assert api.get(LOGIN).status_code == 405
    assert attempt(api).status_code == 400


@pytest.mark.django_db
def test_login_is_limited_by_email_across_many_ips(api, user, frozen):
    # A botnet: every attempt from another address, all against one account, spelled
    # in different cases: the normalized email is the key.
    spellings = [
        "alice@example.com",
        "ALICE@example.com",
        " Alice@Example.COM",
        "alice@EXAMPLE.com",
    ]
    for n in range(5):
        response = attempt(api, email=spellings[n % 4], REMOTE_ADDR=f"198.51.100.{n}")
        assert response.status_code == 400
    refused = attempt(api, REMOTE_ADDR="203.0.113.99")
    assert refused.status_code == 429
    assert refused.json() == {"detail": RATE_LIMITED}
    # Another account from a fresh address is unaffected.
    assert attempt(api, email="bob@example.com", REMOTE_ADDR="203.0.113.98").status_code == 400


@pytest.mark.django_db
def test_login_form_username_counts_as_the_email(api, user, frozen):
    for n in range(5):
        form = "username=Alice%40example.com&password=x"
        response = api.post(
            LOGIN, form, content_type="application/x-www-form-urlencoded", REMOTE_ADDR=f"10.0.0.{n}"
        )
        assert response.status_code == 400
    assert attempt(api, REMOTE_ADDR="10.0.1.1").status_code == 429


@pytest.mark.django_db
def test_login_is_limited_by_ip_across_many_emails(api, frozen):
    for n in range(5):
        assert attempt(api, email=f"user{n}@example.com").status_code == 400
    assert attempt(api, email="someone-else@example.com").status_code == 429


@pytest.mark.django_db
def test_an_ipv6_host_cannot_escape_by_rotating_within_its_64(api, frozen):
    for n in range(5):
        ip = f"2001:db8:1:2::{n + 1:x}"
        assert attempt(api, email=f"u{n}@example.com", REMOTE_ADDR=ip).status_code == 400
    refused = attempt(api, email="u9@example.com", REMOTE_ADDR="2001:db8:1:2:ffff::1")
    assert refused.status_code == 429
    # The next /64 is someone else.
    assert attempt(api, email="u8@example.com", REMOTE_ADDR="2001:db8:1:3::1").status_code == 400


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_escape_the_limit_by_default(api, frozen):
    for n in range(5):
        attempt(api, email=f"u{n}@example.com", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    refused = attempt(api, email="u9@example.com", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert refused.status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_hop(api, settings, frozen):
    settings.TOKENS = {**settings.TOKENS, "TRUSTED_PROXY_COUNT": 1}
    # The client forges entries on the left; our proxy appends the real address.
    for n in range(5):
        forged = f"10.9.9.{n}, 192.0.2.7"
        assert (
            attempt(api, email=f"u{n}@example.com", HTTP_X_FORWARDED_FOR=forged).status_code == 400
        )
    assert (
        attempt(api, email="u9@example.com", HTTP_X_FORWARDED_FOR="10.1.1.1, 192.0.2.7").status_code
        == 429
    )
    # Another client behind the same proxy has its own budget.
    assert attempt(api, email="u8@example.com", HTTP_X_FORWARDED_FOR="192.0.2.8").status_code == 400


# Each call gets a fresh session, made by the service rather than a (rate-limited)
# login, so a call that revokes its session cannot turn the next one into a 401.


def _refresh(api, headers):
    return api.post("/api/auth/refresh")


def _logout(api, headers):
    return api.post("/api/auth/logout")


def _logout_all(api, headers):
    return api.post("/api/auth/logout-all", **headers)


def _change_password(api, headers):
    body = {"current_password": "wrong", "new_password": "another-long-passphrase"}
    return api.post("/api/auth/change-password", body, format="json", **headers)


def _register(api, headers):
    return api.post("/api/auth/register", {"email": "x", "password": "y"}, format="json")


def fresh_session(api, user) -> dict:
    """A new session: its refresh cookie set on ``api``, its bearer header returned."""
    issued = services.start_session(user)
    api.cookies[tokens_settings.REFRESH_TOKEN_COOKIE_NAME] = issued.refresh_token
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.access_token}"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("call", "rate_setting"),
    [
        (_refresh, "RATE_LIMIT_DEFAULT"),
        (_logout, "RATE_LIMIT_DEFAULT"),
        (_logout_all, "RATE_LIMIT_LOGIN"),
    ],
)
def test_every_listed_endpoint_is_limited_by_its_rate(
    api, user, settings, frozen, call, rate_setting
):
    assert_limited_by(rate_setting, call, api, user, settings)


def assert_limited_by(rate_setting: str, call, api, user, settings) -> None:
    """With ``rate_setting`` at 3/m (the other at 50/m), the 4th ``call`` is 429."""
    settings.TOKENS = {**settings.TOKENS, "RATE_LIMIT_DEFAULT": "50/m", "RATE_LIMIT_LOGIN": "50/m"}
    settings.TOKENS = {**settings.TOKENS, rate_setting: "3/m"}
    responses = [call(api, fresh_session(api, user)) for _ in range(4)]
    statuses = [response.status_code for response in responses]
    assert 429 not in statuses[:3], statuses
    assert statuses[3] == 429
    assert responses[3].json() == {"detail": RATE_LIMITED}
    assert int(responses[3]["Retry-After"]) >= 1


@pytest.mark.django_db
def test_an_unreachable_rate_limit_cache_answers_503_not_500(api, settings, user):
    from tokens.tests.live import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    response = attempt(api)
    assert response.status_code == 503
    assert response.json() == {"detail": SERVICE_UNAVAILABLE}
