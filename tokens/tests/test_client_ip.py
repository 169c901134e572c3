"""tokens.client.client_ip: the one reader of the client address, and the rate-limit
IP key built on it."""

import pytest
from django.test import RequestFactory

from tokens.client import client_ip
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
def test_client_ip_unwraps_ipv4_mapped_addresses(remote, expected):
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
