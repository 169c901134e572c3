"""The ``security`` log: one line per security event, from the signals in ``tokens.signals``.

Each record has a readable message (``event key=value ...``) and the same fields as
record attributes (``event``, ``user_id``, ``session_id``, ``ip_address``, ``reason``...),
so ``JsonLinesFormatter`` (or any structured handler) can ship them as data. Only ids,
addresses, generations and reasons are logged: never a token or any part of one.
Replays, refused introspection clients and conflicting refresh cookies are logged at
WARNING, everything else at INFO.
"""

import json
import logging
from typing import Any

from tokens import signals

security_log = logging.getLogger("security")

# The record attributes JsonLinesFormatter copies into each line, in this order.
FIELDS = (
    "event",
    "user_id",
    "session_id",
    "ip_address",
    "reason",
    "client_id",
    "generation",
    "presented_generation",
    "current_generation",
)


def _log(level: int, event: str, **fields: Any) -> None:
    fields = {key: None if value is None else str(value) for key, value in fields.items()}
    text = " ".join(f"{key}={value if value is not None else '-'}" for key, value in fields.items())
    security_log.log(level, "%s %s", event, text, extra={"event": event, **fields})


def on_session_created(sender, *, session, ip_address=None, **kwargs) -> None:
    _log(
        logging.INFO,
        "session_created",
        user_id=session.user_id,
        session_id=session.id,
        ip_address=ip_address,
    )


def on_session_rotated(sender, *, session, ip_address=None, **kwargs) -> None:
    _log(
        logging.INFO,
        "session_rotated",
        user_id=session.user_id,
        session_id=session.id,
        ip_address=ip_address,
        generation=session.generation,
    )


def on_session_revoked(sender, *, sessions, reason, **kwargs) -> None:
    # One line per session, so that grepping a session id finds how it ended.
    for revoked in sessions:
        _log(
            logging.INFO,
            "session_revoked",
            user_id=revoked.user_id,
            session_id=revoked.id,
            ip_address=revoked.ip_address,
            reason=reason,
        )


def on_replay_detected(
    sender, *, session, ip_address=None, presented_generation, current_generation, **kwargs
) -> None:
    _log(
        logging.WARNING,
        "replay_detected",
        user_id=session.user_id,
        session_id=session.id,
        ip_address=ip_address,
        reason="replay",
        presented_generation=presented_generation,
        current_generation=current_generation,
    )


def on_introspection_client_refused(sender, *, client_id, ip_address=None, **kwargs) -> None:
    _log(
        logging.WARNING,
        "introspection_client_refused",
        client_id=client_id or "unknown",
        ip_address=ip_address,
    )


def on_refresh_cookie_conflict(sender, *, ip_address=None, **kwargs) -> None:
    _log(logging.WARNING, "refresh_cookie_conflict", ip_address=ip_address)


def connect() -> None:
    """Route the session signals to the ``security`` logger (called once, from AppConfig)."""
    uid = "tokens.audit"
    signals.session_created.connect(on_session_created, dispatch_uid=f"{uid}.created")
    signals.session_rotated.connect(on_session_rotated, dispatch_uid=f"{uid}.rotated")
    signals.session_revoked.connect(on_session_revoked, dispatch_uid=f"{uid}.revoked")
    signals.replay_detected.connect(on_replay_detected, dispatch_uid=f"{uid}.replay")
    signals.introspection_client_refused.connect(
        on_introspection_client_refused, dispatch_uid=f"{uid}.introspection_refused"
    )
    signals.refresh_cookie_conflict.connect(
        on_refresh_cookie_conflict, dispatch_uid=f"{uid}.cookie_conflict"
    )


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the audit fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: getattr(record, key) for key in FIELDS if hasattr(record, key)})
        return json.dumps(line, separators=(",", ":"))
