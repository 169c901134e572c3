"""tokens.caller.client_ip: the one reader of the client address, and the rate-limit
IP key built on it."""

import pytest
from django.test import RequestFactory

from tokens.caller import client_ip
from tokens.ratelimit import ip_key


def request(remote: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/api/auth/login", **meta)


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        # An IPv4 client on a dual-stack ([::]) socket: its IPv4 address, not an IPv6 one.
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::FFFF:c000:0201", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("not an address", None),
    ],
)
def test_caller_ip_unwraps_ipv4_mapped_addresses(remote, expected):
    assert client_ip(request(remote)) == expected


def test_a_trusted_forwarded_hop_is_unwrapped_too(settings):
    settings.TOKENS = {**settings.TOKENS, "TRUSTED_PROXY_COUNT": 1}
    assert client_ip(request("10.0.0.1", "10.9.9.9, ::ffff:198.51.100.7")) == "198.51.100.7"


@pytest.mark.parametrize(
    ("remote", "key"),
    [
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.2", "192.0.2.2"),
        ("2001:db8:1:2::5", "2001:db8:1:2::/64"),
    ],
)
def test_ip_key_counts_a_mapped_client_by_its_ipv4_address(remote, key):
    assert ip_key("group", request(remote)) == key


@pytest.mark.parametrize(
    ("hop", "expected"),
    [
        # What proxies write when they keep the client's port (Azure Application Gateway,
        # some IIS/ARR and HAProxy setups): the address without its port.
        ("203.0.113.5:41000", "203.0.113.5"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        (" 203.0.113.5 ", "203.0.113.5"),
        ("[::ffff:198.51.100.7]:80", "198.51.100.7"),
    ],
)
def test_a_forwarded_address_with_a_port_is_the_client(settings, hop, expected):
    settings.TOKENS = {**settings.TOKENS, "TRUSTED_PROXY_COUNT": 1}
    assert client_ip(request("10.0.0.1", f"198.51.100.99, {hop}")) == expected


@pytest.mark.parametrize(
    "hop",
    [
        "203.0.113.5:",
        "203.0.113.5:port",
        "203.0.113.5:99999",
        "[2001:db8::1",
        "[2001:db8::1]:",
        "[2001:db8::1]x",
        "[203.0.113.5]:80",
        "2001:db8::1]:443",
        "unknown",
        "_hidden",
        ":::::",
        "[]",
        "\x00",
        "203.0.113.5:41000:1",
        "[" * 5000,
    ],
)
def test_a_malformed_forwarded_address_falls_back_to_the_proxy(settings, hop):
    settings.TOKENS = {**settings.TOKENS, "TRUSTED_PROXY_COUNT": 1}
    assert client_ip(request("10.0.0.1", hop)) == "10.0.0.1"


def test_a_ported_address_behind_a_proxy_has_a_rate_limit_bucket_of_its_own(settings):
    settings.TOKENS = {**settings.TOKENS, "TRUSTED_PROXY_COUNT": 1}
    keys = {
        ip_key("group", request("10.0.0.1", hop))
        for hop in ("203.0.113.5:41000", "203.0.113.6:41000", "[2001:db8:0:1::1]:443")
    }
    assert keys == {"203.0.113.5", "203.0.113.6", "2001:db8:0:1::/64"}
