"""Device names come from a fixed vocabulary, never from free text in a User-Agent."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tokens import crypto, devices
from tokens.models import RefreshToken
from tokens.tests.fixtures import PASSWORD

# A real user agent for every word of the vocabulary, and the name it gets.
REAL = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36": "HeadlessChrome on Linux",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "Edge on Windows",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Safari/605.1.15": "Safari on Mac OS X",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.1 Mobile/15E148 Safari/604.1": "Mobile Safari on iOS",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1": "Chrome Mobile iOS on iOS",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) FxiOS/120.0 Mobile/15E148 Safari/605.1.15": "Firefox iOS on iOS",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Mobile/15E148": "Mobile Safari UI/WKWebView on iOS",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36": "Chrome Mobile on Android",
    "Mozilla/5.0 (Linux; Android 14; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/120.0.0.0 Mobile Safari/537.36": "Chrome Mobile WebView on Android",
    "Mozilla/5.0 (Android 14; Mobile; rv:120.0) Gecko/120.0 Firefox/120.0": (
        "Firefox Mobile on Android"
    ),
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0": (
        "Firefox on Ubuntu"
    ),
    "Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0": (
        "Firefox on Fedora"
    ),
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like "
    "Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36": (
        "Samsung Internet on Android"
    ),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0": "Opera on Windows",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36": "Chrome on Chrome OS",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 YaBrowser/24.1.0.0 Safari/537.36": "Yandex Browser on Windows",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Vivaldi/6.5": "Vivaldi on Windows",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko": ("IE on Windows"),
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.0.0": "Edge Mobile on Android",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chromium/120.0.0.0 Chrome/120.0.0.0 Safari/537.36": "Chromium on Linux",
    "Mozilla/5.0 (X11; FreeBSD amd64; rv:120.0) Gecko/20100101 Firefox/120.0": (
        "Firefox on FreeBSD"
    ),
    "Mozilla/5.0 (X11; OpenBSD amd64; rv:120.0) Gecko/20100101 Firefox/120.0": (
        "Firefox on OpenBSD"
    ),
    "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 "
    "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30": "Android on Android",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile DuckDuckGo/5 Safari/537.36": "DuckDuckGo Mobile on Android",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/120.0.0.0 Safari/537.36": "Chrome on Mac OS X",
    "Mozilla/5.0 (Linux; U; Android 12; en-US; SM-A125F Build/SP1A) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/13.4.0.1306 Mobile "
    "Safari/537.36": "UC Browser on Android",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0": (
        "Firefox on Windows"
    ),
    "Mozilla/5.0 (Linux; Android 14; SM-X) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 [FBAN/EMA;FBLC/en_US;FBAV/1.0;]": "Facebook on Android",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/120.0.0.0 Electron/28.0.0 Safari/537.36": "Electron on Mac OS X",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0": ("Firefox on Linux"),
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Safari/605.1.15 Epiphany/605.1.15": "Epiphany on Linux",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36 Instagram 300.0.0.0": "Instagram on Android",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0 Brave": "Brave on Windows",
    "Mozilla/5.0 (Windows NT 10.0)": "Windows",  # a system and no browser
}

# What the attack pass sent, and others that ua-parser names with their own text.
HOSTILE = [
    "Security team: your account is locked, restore it at https://evil.example/r/1.0 "
    "CFNetwork/1.0 Darwin/20.0",
    "Call +1 555 0100 now-iPhone/1.0 CFNetwork/1.0 Darwin/20.0",
    "Go to evil.example spider/1.0",
]
# User agents around text of the attacker's choosing, in rules that copy it.
TEMPLATES = [
    "{}/1.0 CFNetwork/1.0 Darwin/20.0",
    "{}-iPad/1.0 CFNetwork/1.0 Darwin/20.0",
    "{} Bot/1.0",
    "Mozilla/5.0 ({}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "{}",
]
VOCABULARY = {
    devices.UNKNOWN,
    *devices.BROWSERS,
    *devices.SYSTEMS,
    *(f"{browser} on {system}" for browser in devices.BROWSERS for system in devices.SYSTEMS),
}


@pytest.mark.parametrize(("user_agent", "name"), REAL.items())
def test_real_browsers_are_named(user_agent, name):
    assert devices.describe(user_agent) == name


def test_every_word_of_the_vocabulary_is_one_ua_parser_gives():
    # The vocabulary is spelled as ua-parser spells it: each word is the name of a real
    # user agent above.
    names = set(REAL.values())
    browsers = {name.split(" on ")[0] for name in names if " on " in name}
    systems = {name.split(" on ")[1] for name in names if " on " in name}
    assert browsers == devices.BROWSERS
    assert systems == devices.SYSTEMS
    longest = max(devices.BROWSERS, key=len) + " on " + max(devices.SYSTEMS, key=len)
    assert len(longest) <= devices.DEVICE_MAX_LENGTH


@pytest.mark.parametrize("user_agent", HOSTILE)
def test_free_text_in_a_user_agent_is_an_unknown_device(user_agent):
    assert devices.describe(user_agent) == devices.UNKNOWN


@given(text=st.text(max_size=60), template=st.sampled_from(TEMPLATES))
def test_whatever_the_user_agent_the_name_is_from_the_vocabulary(text, template):
    assert devices.describe(template.format(text)) in VOCABULARY


@pytest.mark.parametrize("user_agent", ["", "curl/8.5.0", "python-requests/2.32", "seed", "x"])
def test_clients_outside_the_vocabulary_are_unknown(user_agent):
    assert devices.describe(user_agent) == devices.UNKNOWN


@pytest.mark.django_db
def test_the_list_and_the_email_never_carry_the_text(make_user, mailoutbox, committed):
    user = make_user("alice@example.com")
    # The email goes to the user's address (the login name in a project of email logins).
    setattr(user, get_user_model().get_email_field_name(), "alice@example.com")
    user.save()
    client = APIClient(HTTP_USER_AGENT=HOSTILE[0])
    with committed():
        login = client.post(
            "/api/auth/login", {"email": "alice@example.com", "password": PASSWORD}, format="json"
        )
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {login.json()['access_token']}"}
    [session] = client.get("/api/auth/sessions", **bearer).json()
    assert session["device"] == devices.UNKNOWN
    [message] = mailoutbox
    assert message.subject == "New sign-in to your account from Unknown device"
    for text in [message.body, *(content for content, _ in message.alternatives)]:
        assert "evil.example" not in text and "Security team" not in text


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.mark.django_db(transaction=True)
def test_the_migration_renames_stored_devices_by_the_vocabulary(make_user):
    """Sessions stored before the vocabulary get their names again from their user
    agent; the rest are left as they are."""
    user = make_user()
    executor = MigrationExecutor(connection)
    [before] = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "tokens"]
    call_command("migrate", "tokens", "0007", verbosity=0)
    # Rows of the table as it was then: the model of that migration, not today's (whose
    # later columns the table does not have yet).
    then = executor.loader.project_state(
        ("tokens", "0007_notificationpreference_changed_at")
    ).apps.get_model("tokens", "RefreshToken")

    def stored(user_agent: str, device: str):
        now = timezone.now()
        return then.objects.create(
            user_id=user.pk,
            expires_at=now + timedelta(days=7),
            absolute_expires_at=now + timedelta(days=30),
            password_binding=crypto.password_binding(user.password),
            user_agent=user_agent,
            device=device,
        )

    hostile = HOSTILE[0]
    stored_hostile = stored(hostile, "Security team: your account is locked, restore")
    unparsed = stored("curl/8.5.0", "curl")
    fine = stored(next(iter(REAL)), "HeadlessChrome on Linux")
    call_command("migrate", "tokens", before[1], verbosity=0)
    names = dict(RefreshToken.objects.values_list("pk", "device"))
    assert names == {
        stored_hostile.pk: devices.UNKNOWN,
        unparsed.pk: devices.UNKNOWN,
        fine.pk: "HeadlessChrome on Linux",
    }
