"""Who is calling: the client IP and user agent, the only place that reads those headers.

``X-Forwarded-For`` is client-controlled unless a proxy we trust wrote it, so by default
only ``REMOTE_ADDR`` counts. With ``TRUSTED_PROXY_COUNT = n`` each of our n proxies
appended the address it received from, so the n-th entry from the right is the address
our outermost proxy saw: the client. Anything left of it may be forged.
"""

import ipaddress

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
    return _valid_ip(hops[-proxies]) or remote


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH]
