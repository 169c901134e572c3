"""Typed readers for environment variables.

Each reader raises ImproperlyConfigured naming the variable, so a bad value stops
start-up (and ``manage.py check``) with a message that says what to fix.
"""

import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def string(name: str, default: str) -> str:
    return _raw(name) or default


def optional(name: str) -> str | None:
    return _raw(name)


def boolean(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}.")


def integer(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    return number


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (_raw(name) or default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}.")
    return value


def csv(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in string(name, default).split(",") if item.strip()]


# django-ratelimit's rate syntax: "<count>/<period>", period an optional multiplier and
# one of s, m, h, d ("5/m", "100/15m"). The library would fail on a bad value at the
# first request with a 500; checked here it stops start-up instead.
_RATE = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)?([smhd])")


def rate(name: str, default: str) -> str:
    value = string(name, default)
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name} must be a rate like 5/m or 100/15m (count/[n]s|m|h|d), got {value!r}."
        )
    return value


def text_or_file(name: str) -> tuple[str, str] | None:
    """A secret given in ``name`` itself or in the file that ``name_FILE`` names (for
    Docker or Kubernetes secrets): ``(the variable it came from, the text)``, or None."""
    value, path = os.environ.get(name, ""), _raw(f"{name}_FILE")
    if value.strip() and path is not None:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if path is not None:
        return f"{name}_FILE", read_file(f"{name}_FILE", path)
    return (name, value) if value.strip() else None


def files(name: str) -> list[tuple[str, str]]:
    """The files of a comma-separated list of paths: ``(name (path), text)`` each."""
    return [(f"{name} ({path})", read_file(name, path)) for path in csv(name)]


def read_file(name: str, path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ImproperlyConfigured(f"{name}: cannot read {path!r} ({reason}).") from None


# Client ids of INTROSPECTION_CLIENTS: what fits a log line and an HTTP Basic user name.
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MIN_CLIENT_SECRET_LENGTH = 32


def client_secrets(name: str) -> dict[str, str]:
    """``id:secret,id:secret`` as a dict. Secrets are never echoed in an error."""
    clients: dict[str, str] = {}
    for entry in csv(name):
        client_id, separator, secret = entry.partition(":")
        if not separator or not _CLIENT_ID.fullmatch(client_id):
            raise ImproperlyConfigured(
                f"{name} must be id:secret pairs separated by commas, the id letters, digits, "
                f"'.', '_' or '-' (got an entry starting {client_id[:12]!r})."
            )
        if len(secret) < MIN_CLIENT_SECRET_LENGTH:
            raise ImproperlyConfigured(
                f"{name}: the secret of {client_id!r} must be at least "
                f'{MIN_CLIENT_SECRET_LENGTH} characters (python -c "import secrets; '
                'print(secrets.token_urlsafe(32))").'
            )
        if client_id in clients:
            raise ImproperlyConfigured(f"{name} names {client_id!r} twice.")
        clients[client_id] = secret
    return clients
