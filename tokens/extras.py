"""The optional parts of the app: which extra of the distribution brings each one, and
whether it is installed.

``pip install drf-session-tokens`` is enough for sessions with HS256 access tokens; each
extra adds a feature, and the module that uses one imports it where it is used, never
at the top of a module every request loads. A setting that asks for a feature whose
extra is missing fails the system check (tokens.E006), naming the extra.
"""

import importlib.util
from functools import cache

DISTRIBUTION = "drf-session-tokens"

# extra -> the modules it brings (the first one stands for it) and what it is for.
EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "emails": (("django_tasks",), "security emails"),
    "keys": (("cryptography", "joserfc"), "ES256 / EdDSA access tokens and the JWKS"),
    "dpop": (("cryptography",), "DPoP proofs (RFC 9449)"),
    "redis": (("redis",), "a Redis cache for the rate limits"),
    "schema": (("drf_spectacular",), "the OpenAPI description of the endpoints"),
    "devices": (("ua_parser",), 'device names such as "Chrome on Linux"'),
}


@cache
def installed(extra: str) -> bool:
    """Whether every module of ``extra`` can be imported (found, not imported)."""
    modules, _purpose = EXTRAS[extra]
    return all(importlib.util.find_spec(module) is not None for module in modules)


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, for error messages and check hints."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def missing(extra: str) -> str:
    """The sentence an error gives when ``extra`` is needed but not installed."""
    _modules, purpose = EXTRAS[extra]
    return f"{purpose[0].upper()}{purpose[1:]} need the {extra!r} extra: {install_hint(extra)}."


def redis_errors() -> tuple[type[Exception], ...]:
    """What a Redis cache raises when Redis cannot answer; nothing without redis."""
    try:
        from redis.exceptions import RedisError
    except ImportError:
        return ()
    return (RedisError,)


class Undocumented:
    """Stands in for ``tokens.schema`` without drf-spectacular: each of its decorators
    leaves the view as it is."""

    def __getattr__(self, name: str):
        return lambda view: view
