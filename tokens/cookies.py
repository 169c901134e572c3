"""The refresh cookie: the only place that knows its name and attributes.

Setting and deleting go through the same attributes, so a browser always matches the
deleting Set-Cookie to the cookie it holds (dj-rest-auth PR #208 is what happens when
they drift apart).
"""

import ipaddress

from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port

from tokens import caller, signals
from tokens.errors import RefreshCookieConflict
from tokens.models import RefreshToken
from tokens.settings import tokens_settings


def _set(
    response: HttpResponse,
    value: str,
    max_age: int,
    *,
    path: str | None = None,
    domain: str | None = None,
) -> None:
    response.set_cookie(
        tokens_settings.REFRESH_TOKEN_COOKIE_NAME,
        value,
        max_age=max_age,
        path=path or tokens_settings.REFRESH_TOKEN_COOKIE_PATH,
        domain=domain,
        secure=tokens_settings.REFRESH_TOKEN_COOKIE_SECURE,
        httponly=True,
        samesite=tokens_settings.REFRESH_TOKEN_COOKIE_SAMESITE,
    )


def set_refresh_cookie(response: HttpResponse, token: str, max_age: int) -> None:
    _set(response, token, max_age)


def delete_refresh_cookie(response: HttpResponse) -> None:
    _set(response, "", 0)


def read_refresh_cookie(request: HttpRequest, *, conflict_is_absent: bool = False) -> str | None:
    """The request's refresh cookie, or None; RefreshCookieConflict when it carries the
    name more than once with different values.

    A cookie of the same name planted on another path or a parent domain is sent along
    with ours, and browsers put the longer path first (RFC 6265, 5.4): no position can
    be trusted, so two different values are refused, not chosen between (the same
    value twice is one cookie). ``conflict_is_absent`` reads them as no cookie instead,
    for a caller that knows the session without one (a bearer token). Each pair is read
    exactly as Django reads it (split on ";", then ``parse_cookie``); Django's
    ``request.COOKIES`` would keep only the last.
    """
    name = tokens_settings.REFRESH_TOKEN_COOKIE_NAME
    values = set()
    for pair in request.META.get("HTTP_COOKIE", "").split(";"):
        cookie = parse_cookie(pair)
        if name in cookie:
            values.add(cookie[name])
    if len(values) > 1:
        signals.refresh_cookie_conflict.send(
            sender=RefreshToken, ip_address=caller.client_ip(request)
        )
        if conflict_is_absent:
            return None
        raise RefreshCookieConflict()
    value = values.pop() if values else ""
    return value or None


def delete_other_refresh_cookies(response: HttpResponse, request: HttpRequest) -> None:
    """Expire every refresh cookie the browser may hold for this request but ours.

    A planted cookie can only be deleted by a Set-Cookie of the same name, domain and
    path, and a request does not say where its cookies came from. So one deleting
    Set-Cookie goes to each place a cookie sent with this request can live: each path
    that matches the request's path (RFC 6265, 5.1.4), host-only and on each parent
    domain of the host. Ours (host-only, REFRESH_TOKEN_COOKIE_PATH) is left alone: deleting it
    would leave the planted cookie as the only one, which is what the attacker wants.
    A browser ignores the ones that name a public suffix.
    """
    for domain in [None, *_parent_domains(request.get_host())]:
        for path in _matching_paths(request.path):
            if domain is None and path == tokens_settings.REFRESH_TOKEN_COOKIE_PATH:
                continue
            deletion = HttpResponse()
            _set(deletion, "", 0, path=path, domain=domain)
            morsel = deletion.cookies[tokens_settings.REFRESH_TOKEN_COOKIE_NAME]
            # response.cookies is keyed by name, one Set-Cookie per name; a Morsel
            # stored under another key is sent as a Set-Cookie of its own.
            response.cookies[f"{morsel.key};{domain or ''};{path}"] = morsel


def _matching_paths(path: str) -> list[str]:
    """Every cookie path that path-matches ``path``: "/", "/api", "/api/", ... itself."""
    found = ["/"]
    for index, char in enumerate(path):
        if char == "/" and index > 0:
            found += [path[:index], path[: index + 1]]
    if path not in found:
        found.append(path)
    return list(dict.fromkeys(found))


def _parent_domains(host: str) -> list[str]:
    """ "example.com" for "auth.example.com"; none for an IP address or a one-label name."""
    domain, _ = split_domain_port(host)
    try:
        ipaddress.ip_address(domain.strip("[]"))
        return []
    except ValueError:
        labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels) - 1)]
