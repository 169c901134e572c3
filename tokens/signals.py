"""Security events of the session service, as Django signals.

The service (``tokens.services``) sends most of them, ``RefreshTokenQuerySet.revoke``
(``tokens.models``, every revocation) ``session_revoked``, the introspection client
check (``tokens.authentication``) and the cookie reader (``tokens.cookies``) one each;
``tokens.audit`` turns them into ``security`` log lines, and anyone else may connect (a
SIEM shipper, metrics, tests). Every signal is sent with ``sender=RefreshToken``. No
argument ever carries a token or any part of one: ids, IP addresses and reasons only.

``session_revoked`` is sent right after the UPDATE, inside the transaction that made
it (as Django's own ``post_save`` is); ``replay_detected`` is sent in that transaction
too, under the session's row lock, just before the revocation it causes. So a receiver
sees both even if an outer transaction later rolls back; none of the service's own
callers rolls back after a revocation. ``session_created`` and ``session_rotated`` are
sent once their write has committed (unless the caller holds an outer transaction).
"""

from django.dispatch import Signal

# A login created a session. Arguments: ``session`` (RefreshToken), ``ip_address``.
session_created = Signal()

# A refresh rotated a session to its next generation. Arguments: ``session`` (with
# the new generation), ``ip_address`` (of the refreshing client, may be None). The
# session holds the columns the refresh read (tokens.sql.ADVANCE_FIELDS); any other
# loads on first access, a query each, as after ``QuerySet.only()``.
session_rotated = Signal()

# One set-based revocation. Arguments: ``reason`` (a RevokeReason value) and
# ``sessions``, a tuple of ``tokens.models.RevokedSession`` (id, user id, IP of the
# login), one per session that this call revoked; never sent for zero sessions.
session_revoked = Signal()

# An old refresh token was presented again after the reuse interval: the session is
# revoked (a ``session_revoked`` with reason ``replay`` follows). Arguments:
# ``session``, ``ip_address`` (of the presenting client), ``presented_generation``,
# ``current_generation``.
replay_detected = Signal()

# A service presented wrong credentials to the introspection endpoint. Arguments:
# ``client_id`` (the configured id it named, or None for an id nobody configured: a
# made-up id is never passed on) and ``ip_address``.
introspection_client_refused = Signal()

# A request carried the refresh cookie's name twice with different values (a cookie
# planted on another path or a parent domain); it was refused. Argument: ``ip_address``.
refresh_cookie_conflict = Signal()
