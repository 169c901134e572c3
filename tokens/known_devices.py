"""Device cookies: a browser that has signed in to an account before guesses on its own budget.

OWASP's "Slow Down Online Guessing Attacks with Device Cookies": after a successful login
the client gets a long-lived HttpOnly cookie naming the account (a signed pair of the
user's id and a random device id). Failed logins from unknown clients spend the account's
budget, and may exhaust it; a client presenting a valid device cookie for the account
spends its device's budget instead, so strangers failing elsewhere never lock it out.

The cookie is bound to the user's password as sessions are (``tokens.crypto``): once the
password changes, a thief's device cookies are worth nothing. It is signed with Django's
``signing`` (``SECRET_KEY`` and its fallbacks, constant-time), kept across logout, and sent
on ``Path=/`` so that every login form of the site (the API's, the Django admin's) reads it.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core import signing
from django.http import HttpRequest, HttpResponse

from tokens import crypto
from tokens.settings import tokens_settings

_SALT = "tokens.known_devices"


def remember(response: HttpResponse, user) -> None:
    """Give the client a device cookie for ``user`` (just signed in with its password)."""
    value = signing.dumps(
        [str(user.pk), secrets.token_urlsafe(16), crypto.password_binding(user.password)],
        salt=_SALT,
    )
    response.set_cookie(
        tokens_settings.DEVICE_COOKIE_NAME,
        value,
        max_age=int(tokens_settings.DEVICE_COOKIE_LIFETIME.total_seconds()),
        path="/",
        secure=tokens_settings.REFRESH_TOKEN_COOKIE_SECURE,
        httponly=True,
        samesite=tokens_settings.REFRESH_TOKEN_COOKIE_SAMESITE,
    )


def recognise(request: HttpRequest, login_name: str) -> str | None:
    """The device id of the request's device cookie if it names the account
    ``login_name`` and that account's current password; None otherwise.

    Costs one query (the user, looked up as Django's ModelBackend does), and only when
    the request carries a genuine, unexpired cookie.
    """
    value = request.COOKIES.get(tokens_settings.DEVICE_COOKIE_NAME)
    if not value:
        return None
    try:
        user_id, device_id, binding = signing.loads(
            value, salt=_SALT, max_age=tokens_settings.DEVICE_COOKIE_LIFETIME
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if "\x00" in login_name:
        # No login name holds one (Django's forms refuse it), and PostgreSQL refuses it
        # in a query: the admin's form reaches here before its own validation.
        return None
    user_model = get_user_model()
    try:
        user = user_model._default_manager.get_by_natural_key(login_name)
    except user_model.DoesNotExist:
        return None
    if str(user.pk) != user_id or not crypto.is_bound_to(binding, user.password):
        return None
    return device_id
