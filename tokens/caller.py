"""Who is calling: the client IP and user agent, the only place that reads those headers.

``X-Forwarded-For`` is client-controlled unless a proxy we trust wrote it, so by default
only ``REMOTE_ADDR`` counts. With ``TRUSTED_PROXY_COUNT = n`` each of our n proxies
appended the address it received from, so the n-th entry from the right is the address
our outermost proxy saw: the client. Anything left of it may be forged. Some proxies
write the client's port too (``203.0.113.5:41000``, ``[2001:db8::1]:443``: Azure
Application Gateway, some HAProxy and IIS setups); the address is the one before it.
RFC 7239's ``Forwarded`` is not read: a proxy that writes only X-Forwarded-For passes
a client's own ``Forwarded`` header through untouched.
"""

import ipaddress
import re

from django.http import HttpRequest

from tokens.settings import tokens_settings

USER_AGENT_MAX_LENGTH = 512


def _valid_ip(value: str) -> str | None:
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # A dual-stack socket ([::]) sees an IPv4 client as ::ffff:a.b.c.d. Left wrapped it
    # would count as IPv6, by its /64 (::/64): every IPv4 client in one bucket.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


# An entry with a port: IPv6 in brackets (the port optional), or IPv4 and a port.
_BRACKETED = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::([0-9]{1,5}))?")
_IPV4_WITH_PORT = re.compile(r"([0-9.]+):([0-9]{1,5})")
_MAX_PORT = 65535


def _forwarded_ip(hop: str) -> str | None:
    """The address of one X-Forwarded-For entry, with or without a port, or None."""
    hop = hop.strip()
    if match := _BRACKETED.fullmatch(hop):
        address, port = match.groups()
        if ":" not in address:  # brackets hold an IPv6 address only
            return None
    elif match := _IPV4_WITH_PORT.fullmatch(hop):
        address, port = match.groups()
    else:
        address, port = hop, None
    if port is not None and int(port) > _MAX_PORT:
        return None
    return _valid_ip(address)


def client_ip(request: HttpRequest) -> str | None:
    """The caller's IP address as far as we can trust it, or None when unknown."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = tokens_settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    # REMOTE_ADDR is the nearest proxy; X-Forwarded-For lists the hops before it.
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    return _forwarded_ip(hops[-proxies]) or remote


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH]
