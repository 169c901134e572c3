"""One row per session: the chain of refresh tokens that started with one login."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connections, models, router
from django.db.models import Q
from django.utils import timezone

from tokens import crypto, signals, sql
from tokens.caller import USER_AGENT_MAX_LENGTH
from tokens.devices import DEVICE_MAX_LENGTH


class RevokeReason(models.TextChoices):
    LOGOUT = "logout", "logout"
    LOGOUT_ALL = "logout_all", "logout from all devices"
    REVOKED = "revoked", "revoked by the user"
    PASSWORD_CHANGE = "password_change", "password change"
    REPLAY = "replay", "replay detected"
    EVICTED = "evicted", "evicted by the session cap"
    DPOP_KEY = "dpop_key", "refresh token used with another key"
    ADMIN = "admin", "revoked by an administrator"


@dataclass(frozen=True)
class RevokedSession:
    """What the audit trail learns about one revoked session (no token in here)."""

    id: uuid.UUID
    user_id: object  # the user model's primary key
    ip_address: str | None


@dataclass(frozen=True)
class InsertedSession:
    """What a login's INSERT learned about the user's other sessions."""

    other_live_sessions: int  # for the session cap
    device_seen_before: bool  # any other session, revoked or expired too, of this device


def _key_after(key: tuple[str, ...], values: tuple) -> Q:
    """The row-value comparison ``key > values``, spelled out field by field.

    ``(a, b) > (x, y)`` is ``a >= x AND (a > x OR (a = x AND b > y))``: the leading
    range on ``a`` is what lets an index on the key serve it.
    """
    condition = Q(**{f"{key[-1]}__gt": values[-1]})
    for field, value in zip(reversed(key[:-1]), reversed(values[:-1]), strict=True):
        condition = Q(**{f"{field}__gt": value}) | (Q(**{field: value}) & condition)
    return Q(**{f"{key[0]}__gte": values[0]}) & condition


def _key_up_to(key: tuple[str, ...], values: tuple) -> Q:
    """The row-value comparison ``key <= values``, the mirror of ``_key_after``."""
    condition = Q(**{f"{key[-1]}__lte": values[-1]})
    for field, value in zip(reversed(key[:-1]), reversed(values[:-1]), strict=True):
        condition = Q(**{f"{field}__lt": value}) | (Q(**{field: value}) & condition)
    return Q(**{f"{key[0]}__lte": values[0]}) & condition


class SessionStatus(models.TextChoices):
    """What a session is, as the admin shows it: a revocation wins over an expiry."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RefreshTokenQuerySet(models.QuerySet):
    def live(self, now: datetime | None = None) -> "RefreshTokenQuerySet":
        """Sessions that can still refresh: not revoked, not past either expiry."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())

    def purgeable(self, now: datetime | None = None) -> "RefreshTokenQuerySet":
        """Sessions past their idle or absolute expiry, revoked or not: what
        ``purge_expired_tokens`` deletes (nothing can use them any more)."""
        return self.filter(expires_at__lte=now or timezone.now())

    def with_status(self, status: str, now: datetime | None = None) -> "RefreshTokenQuerySet":
        """The sessions whose ``status()`` is ``status``, each one indexed condition."""
        now = now or timezone.now()
        if status == SessionStatus.REVOKED:
            return self.filter(revoked_at__isnull=False)
        if status == SessionStatus.ACTIVE:
            return self.live(now)
        return self.filter(revoked_at__isnull=True, expires_at__lte=now)

    def bound_to(self, password_hash: str) -> "RefreshTokenQuerySet":
        """Sessions opened with this password hash (under any of the server's keys)."""
        return self.filter(password_binding__in=crypto.password_bindings(password_hash))

    def bound_elsewhere(self, password_hash: str) -> "RefreshTokenQuerySet":
        """Sessions not opened with this password hash (under any of the server's keys)."""
        return self.exclude(password_binding__in=crypto.password_bindings(password_hash))

    def revoke(
        self, reason: str, now: datetime | None = None, *, user_id=None
    ) -> tuple[RevokedSession, ...]:
        """Revoke the live sessions of this queryset in one UPDATE and send one
        ``session_revoked`` signal for them; returns them (``len()`` is the count).
        ``user_id``: the caller knows they are all that user's sessions (a hint for the
        planner, ``sql.revoke``: the session cap's eviction went from 51 to 3 ms with
        5,000 sessions of one user, bench/indexes.py).

        The one way a session is revoked, whoever asks (the API, the admin, the
        commands, a replay): ``UPDATE ... RETURNING`` (PostgreSQL, SQLite >= 3.35; the
        ORM's ``update()`` returns only a count) revokes and names the sessions in the
        same statement, with no SELECT before it and no query per session. The signal
        names only the sessions this statement revoked, not those a concurrent call
        revoked first.
        """
        now = now or timezone.now()
        # A write: on the database the router picks for writes, never a read replica.
        using = self._db or router.db_for_write(self.model)
        statement, params = sql.revoke(self.live(now), using, reason, now, user_id)
        with connections[using].cursor() as cursor:
            cursor.execute(statement, params)
            rows = cursor.fetchall()
        opts = self.model._meta
        session_id = opts.pk.to_python
        user_id = opts.get_field("user").target_field.to_python  # any user model's pk
        revoked = tuple(RevokedSession(session_id(sid), user_id(uid), ip) for sid, uid, ip in rows)
        if revoked:
            signals.session_revoked.send(sender=self.model, sessions=revoked, reason=str(reason))
        return revoked

    def insert_for_password(
        self, session: "RefreshToken", password_hash: str, now: datetime
    ) -> "InsertedSession | None":
        """INSERT ``session`` if its user's password is still ``password_hash``; return
        what the login needs to know of the user's other sessions, or None (nothing
        inserted).

        One statement (``tokens.sql.insert_for_password``), ``INSERT ... SELECT ... FROM
        user WHERE password = ... [FOR NO KEY UPDATE] RETURNING (SELECT COUNT(*) ...),
        EXISTS (...)`` (PostgreSQL, SQLite >= 3.35):
        - a login that checked a password which a concurrent change has since replaced
          writes no session (on PostgreSQL the row lock waits for that change to
          commit, or makes the change wait for this login, whose session it then ends);
        - the session cap gets its count, and the new-device email its answer, without
          a statement of their own.
        Like ``bulk_create`` it sends no save signals.
        """
        using = self._db or router.db_for_write(self.model)
        statement, params = sql.insert_for_password(self.model, using, session, password_hash, now)
        with connections[using].cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
        if row is None:
            return None
        session._state.adding, session._state.db = False, using
        return InsertedSession(other_live_sessions=row[0], device_seen_before=bool(row[1]))

    def user_of_live_session(self, session_id, user_id, now: datetime):
        """The user of a live session, with the session's password binding and DPoP key
        as ``user.session_password_binding`` and ``user.session_dpop_jkt``; None when no
        such session lives.

        One query, the hottest of the service (every authenticated request): the
        session's liveness is checked in its WHERE and the user comes in the same row.
        SQL built once per database and ``USER_ID_FIELD``, read by ``sql.fetch_one``,
        skips the QuerySet machinery (cloning, compiling the join) that
        ``select_related`` pays on every call; Django still builds the user (``from_db``).
        """
        using = self._db or router.db_for_read(self.model)
        user_model = self.model._meta.get_field("user").related_model
        statement, params = sql.live_session_user(self.model, using, session_id, user_id, now)
        found = sql.fetch_one(user_model, using, statement, params)
        if found is None:
            return None
        user, (binding, dpop_jkt) = found
        user.session_password_binding, user.session_dpop_jkt = binding, dpop_jkt
        return user

    def advance(
        self,
        session_id: uuid.UUID,
        generation: int,
        now: datetime,
        *,
        idle_until: datetime,
        remember_me_until: datetime,
        rotate: bool,
        dpop_jkt: str | None = None,
    ) -> "RefreshToken | None":
        """Use a session: if it lives, is at ``generation`` and its user is active, move
        its idle expiry (to ``idle_until`` or ``remember_me_until``, never past the
        absolute one) and, with ``rotate``, its generation; a session bound to a DPoP key
        only with that key's thumbprint as ``dpop_jkt``. Returns it (the columns of
        ``sql.ADVANCE_FIELDS``, the others deferred) with ``session.user`` carrying the
        user's password; None when nothing matched.

        One statement in autocommit, ``UPDATE ... WHERE ... RETURNING``: the row's own
        lock makes concurrent uses of one generation agree (the second finds the
        generation moved and matches nothing), so no SELECT ... FOR UPDATE is needed on
        this path. Whatever did not match is for the caller to sort out.
        """
        using = self._db or router.db_for_write(self.model)
        statement, params, user_columns = sql.advance(
            self.model,
            using,
            session_id,
            generation,
            now,
            idle_until=idle_until,
            remember_me_until=remember_me_until,
            rotate=rotate,
            dpop_jkt=dpop_jkt,
        )
        found = sql.fetch_one(self.model, using, statement, params, sql.ADVANCE_FIELDS)
        if found is None:
            return None
        session, returned = found
        user_model = self.model._meta.get_field("user").related_model
        known = {user_model._meta.pk.attname: session.user_id}
        known.update((name, value) for (_, name), value in zip(user_columns, returned, strict=True))
        if sql.has_field(user_model, "is_active"):
            known["is_active"] = True  # the UPDATE matched only an active user
        # from_db() takes the loaded fields in the model's field order.
        names = [f.attname for f in user_model._meta.concrete_fields if f.attname in known]
        session.user = user_model.from_db(using, names, [known[n] for n in names])
        return session

    def keyset_batches(
        self, key: tuple[str, ...], batch_size: int
    ) -> Iterator["RefreshTokenQuerySet"]:
        """Cut this queryset into consecutive ranges of ``batch_size`` matches along ``key``.

        ``key`` ends with ``"pk"`` so it is unique. Each yielded queryset is this one
        restricted to ``lower < key <= upper``: it still carries this queryset's own
        condition, so a statement run on it acts only on rows that match when it runs.
        One indexed query per batch finds the next upper bound (keyset, never OFFSET
        from the start); nothing is loaded but that one key.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        keys = self.order_by(*key).values_list(*key)
        lower = None
        while True:
            rest = self if lower is None else self.filter(_key_after(key, lower))
            remaining = keys if lower is None else keys.filter(_key_after(key, lower))
            bound = list(remaining[batch_size - 1 :][:1])
            if not bound:
                yield rest  # the last, partial batch
                return
            yield rest.filter(_key_up_to(key, bound[0]))
            lower = bound[0]


class RefreshToken(models.Model):
    """A session (a refresh-token family). The token itself is never stored.

    ``expires_at`` is the idle expiry, already capped at ``absolute_expires_at``, so a
    single indexed column answers "is it live?" for both lifetimes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: tokens_user_created_idx (Meta.indexes) leads with user_id and
    # serves every lookup by user (the cascade of a user's deletion too). A plain one
    # cost each refresh and login one more index entry (bench/indexes.py: 6 B-tree
    # inserts per refresh, 5 without it) and no plan needed it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="refresh_tokens",
        db_index=False,
    )
    generation = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)
    # When the user last proved their password in this session (login, reauthenticate,
    # change-password): the access token's ``auth_time``, kept across refreshes.
    authenticated_at = models.DateTimeField("last password proof", default=timezone.now)
    expires_at = models.DateTimeField()
    absolute_expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=32, choices=RevokeReason.choices, blank=True)
    remember_me = models.BooleanField(default=False)
    user_agent = models.CharField(max_length=USER_AGENT_MAX_LENGTH, blank=True)
    device = models.CharField(max_length=DEVICE_MAX_LENGTH, blank=True)  # "Chrome on Linux"
    ip_address = models.GenericIPAddressField("IP address", null=True, blank=True)
    # A MAC of the user's password hash at login (tokens.crypto): the session ends when
    # the password changes by any path, as Django's sessions do with
    # get_session_auth_hash(). Useless without SECRET_KEY, like the refresh token.
    password_binding = models.CharField(max_length=64, editable=False)
    # The RFC 7638 thumbprint of the key whose DPoP proof opened the session (RFC 9449):
    # then every refresh and every access token of it needs a proof by that key. Null:
    # a session without one, which works as a bearer session.
    dpop_jkt = models.CharField(
        "DPoP key thumbprint", max_length=43, blank=True, default="", editable=False
    )

    objects = RefreshTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "session"
        verbose_name_plural = "sessions"
        ordering = ["-created_at"]
        indexes = [
            # The user's sessions, newest first (sessions list, revoke all, the cap).
            models.Index(fields=["user", "-created_at"], name="tokens_user_created_idx"),
            # Expired rows for the purge (and the admin's "expired" filter). The purge
            # walks it in (expires_at, id) order, so the id is in the index: the next
            # batch's bound is read from the index alone.
            models.Index(fields=["expires_at", "id"], name="tokens_expires_id_idx"),
            # The admin changelist's order: Django appends "-pk" to "-created_at" to make
            # it total, so this index hands over the first page without a sort.
            models.Index(fields=["-created_at", "-id"], name="tokens_created_idx"),
            # The admin's "revoked" filter in that order: only revoked rows, so a page of
            # them never scans past the live ones.
            models.Index(
                fields=["-created_at", "-id"],
                name="tokens_revoked_created_idx",
                condition=models.Q(revoked_at__isnull=False),
            ),
            # The session cap: a user's unrevoked sessions by last use (least recently
            # used first to go), without reading their revoked history.
            models.Index(
                fields=["user", "-last_used_at"],
                name="tokens_user_lastused_idx",
                condition=models.Q(revoked_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.id}"

    def is_live(self, now: datetime | None = None) -> bool:
        """Not revoked, not expired (the columns only; see ``is_bound_to_password``)."""
        return self.revoked_at is None and self.expires_at > (now or timezone.now())

    def status(self, now: datetime | None = None) -> SessionStatus:
        """Revoked (whatever its expiry), else active while ``is_live``, else expired."""
        if self.revoked_at is not None:
            return SessionStatus.REVOKED
        return SessionStatus.ACTIVE if self.is_live(now) else SessionStatus.EXPIRED

    def is_bound_to_password(self) -> bool:
        """Whether the user's password is still the one this session was opened with."""
        return crypto.is_bound_to(self.password_binding, self.user.password)


class NotificationPreference(models.Model):
    """Which optional security emails a user wants (tokens.notifications).

    Only the new-device email can be turned off: the stolen-token and password-change
    emails always go out. No row means the defaults, so existing users need nothing.
    An opt-out applies to the sign-ins after ``changed_at``, not to those already queued.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    new_device = models.BooleanField(
        default=True,
        verbose_name="email on sign-in from a new device",
        help_text="An email when the account signs in from a browser and system it never used.",
    )
    # When the choice was last saved: an opt-out silences only the sign-ins after it, so
    # whoever signs in cannot turn off the email about that very sign-in while it waits
    # in the queue (tokens.notifications.deliver).
    changed_at = models.DateTimeField("changed", auto_now=True)

    class Meta:
        verbose_name = "notification preference"
        verbose_name_plural = "notification preferences"

    def __str__(self) -> str:
        return f"notification preference of {self.user_id}"
