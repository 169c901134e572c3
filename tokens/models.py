"""One row per session: the chain of refresh tokens that started with one login."""

import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connections, models, router
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings

from tokens import crypto
from tokens.client import USER_AGENT_MAX_LENGTH
from tokens.devices import DEVICE_MAX_LENGTH


class RevokeReason(models.TextChoices):
    LOGOUT = "logout", "logout"
    LOGOUT_ALL = "logout_all", "logout from all devices"
    REVOKED = "revoked", "revoked by the user"
    PASSWORD_CHANGE = "password_change", "password change"
    REPLAY = "replay", "replay detected"
    EVICTED = "evicted", "evicted by the session cap"
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


class RefreshTokenQuerySet(models.QuerySet):
    def live(self, now: datetime | None = None) -> "RefreshTokenQuerySet":
        """Sessions that can still refresh: not revoked, not past either expiry."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())

    def expired(self, now: datetime | None = None) -> "RefreshTokenQuerySet":
        """Sessions past their idle or absolute expiry (revoked or not): purgeable."""
        return self.filter(expires_at__lte=now or timezone.now())

    def bound_to(self, password_hash: str) -> "RefreshTokenQuerySet":
        """Sessions opened with this password hash (under any of the server's keys)."""
        return self.filter(password_binding__in=crypto.password_bindings(password_hash))

    def bound_elsewhere(self, password_hash: str) -> "RefreshTokenQuerySet":
        """Sessions not opened with this password hash (under any of the server's keys)."""
        return self.exclude(password_binding__in=crypto.password_bindings(password_hash))

    def revoke(self, reason: str, now: datetime) -> tuple[RevokedSession, ...]:
        """Revoke the unrevoked sessions of this queryset in one UPDATE; name them.

        ``UPDATE ... RETURNING`` (PostgreSQL, SQLite >= 3.35; the ORM's ``update()``
        returns only a count) revokes and names the revoked sessions in the same
        statement: no SELECT before it and no query per session, however many.
        """
        # A write: on the database the router picks for writes, never a read replica.
        using = self._db or router.db_for_write(self.model)
        connection = connections[using]
        opts = self.model._meta
        quote = connection.ops.quote_name
        table, pk = quote(opts.db_table), quote(opts.pk.column)
        revoked_at = quote(opts.get_field("revoked_at").column)
        reason_column = quote(opts.get_field("revoke_reason").column)
        user_column = quote(opts.get_field("user").column)
        ip_column = quote(opts.get_field("ip_address").column)
        targets = self.filter(revoked_at__isnull=True).order_by().values("pk")
        targets_sql, targets_params = targets.query.get_compiler(using=using).as_sql()
        # Only quoted identifiers and Django-compiled SQL are interpolated; values are params.
        sql = (
            f"UPDATE {table} SET {revoked_at} = %s, {reason_column} = %s "
            f"WHERE {revoked_at} IS NULL AND {pk} IN ({targets_sql}) "
            f"RETURNING {pk}, {user_column}, {ip_column}"
        )
        now_value = opts.get_field("revoked_at").get_db_prep_value(now, connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [now_value, str(reason), *targets_params])
            rows = cursor.fetchall()
        session_id = opts.pk.to_python
        user_id = opts.get_field("user").target_field.to_python  # any user model's pk
        return tuple(RevokedSession(session_id(sid), user_id(uid), ip) for sid, uid, ip in rows)

    def insert_for_password(
        self, session: "RefreshToken", password_hash: str, now: datetime
    ) -> "InsertedSession | None":
        """INSERT ``session`` if its user's password is still ``password_hash``; return
        what the login needs to know of the user's other sessions, or None (nothing
        inserted).

        One statement, ``INSERT ... SELECT ... FROM user WHERE password = %s [FOR NO KEY
        UPDATE]
        RETURNING (SELECT COUNT(*) ...), EXISTS (...)`` (PostgreSQL, SQLite >= 3.35):
        - a login that checked a password which a concurrent change has since replaced
          writes no session (on PostgreSQL the row lock waits for that change to
          commit, or makes the change wait for this login, whose session it then ends);
        - the session cap gets its count, and the new-device email its answer, without
          a statement of their own.
        Like ``bulk_create`` it sends no save signals.
        """
        using = self._db or router.db_for_write(self.model)
        connection = connections[using]
        opts = self.model._meta
        values = [
            f.get_db_prep_save(f.pre_save(session, add=True), connection)
            for f in opts.local_concrete_fields
        ]
        prep = opts.get_field("expires_at").get_db_prep_value
        user_id = opts.get_field("user").target_field.get_db_prep_value(session.user_id, connection)
        session_id = opts.pk.get_db_prep_value(session.pk, connection)
        with connection.cursor() as cursor:
            cursor.execute(
                _insert_for_password_sql(using),
                # the INSERT's values; the user row; the count's user, now and new id;
                # the device check's user, device and new id
                (
                    *values,
                    user_id,
                    password_hash,
                    user_id,
                    prep(now, connection),
                    session_id,
                    user_id,
                    session.device,
                    session_id,
                ),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        session._state.adding, session._state.db = False, using
        return InsertedSession(other_live_sessions=row[0], device_seen_before=bool(row[1]))

    def user_of_live_session(self, session_id, user_id, now: datetime):
        """The user of a live session, with the session's password binding as
        ``user.session_password_binding``; None when no such session lives.

        One query, the hottest of the service (every authenticated request): the
        session's liveness is checked in its WHERE and the user comes in the same row.
        ``Manager.raw()`` with SQL compiled once per database alias skips the
        QuerySet machinery (cloning, compiling the join) that ``select_related``
        pays on every call; Django still builds and converts the user as usual.
        """
        using = self._db or router.db_for_read(self.model)
        user_model = self.model._meta.get_field("user").related_model
        sql = _live_session_user_sql(connections[using].alias, api_settings.USER_ID_FIELD)
        connection = connections[using]
        user_field = user_model._meta.get_field(api_settings.USER_ID_FIELD)
        params = [
            self.model._meta.pk.get_db_prep_value(session_id, connection),
            user_field.get_db_prep_value(user_id, connection),
            self.model._meta.get_field("expires_at").get_db_prep_value(now, connection),
        ]
        return next(iter(user_model._base_manager.db_manager(using).raw(sql, params)), None)

    def advance(
        self,
        session_id: uuid.UUID,
        generation: int,
        now: datetime,
        *,
        idle_until: datetime,
        remember_me_until: datetime,
        rotate: bool,
    ) -> "RefreshToken | None":
        """Use a session: if it lives, is at ``generation`` and its user is active, move
        its idle expiry (to ``idle_until`` or ``remember_me_until``, never past the
        absolute one) and, with ``rotate``, its generation. Returns it with
        ``session.user`` carrying the user's password; None when nothing matched.

        One statement in autocommit, ``UPDATE ... WHERE ... RETURNING``: the row's own
        lock makes concurrent uses of one generation agree (the second finds the
        generation moved and matches nothing), so no SELECT ... FOR UPDATE is needed on
        this path. Whatever did not match is for the caller to sort out.
        """
        using = self._db or router.db_for_write(self.model)
        connection = connections[using]
        opts = self.model._meta

        def prep(name: str, value) -> object:
            return opts.get_field(name).get_db_prep_value(value, connection)

        params = [prep("last_used_at", now)]
        if rotate:
            params.append(prep("rotated_at", now))
        params += [
            prep("expires_at", remember_me_until),
            prep("expires_at", remember_me_until),
            prep("expires_at", idle_until),
            prep("expires_at", idle_until),
            opts.pk.get_db_prep_value(session_id, connection),
            prep("generation", generation),
            prep("expires_at", now),
        ]
        sql, user_columns = _advance_sql(using, rotate)
        session = next(iter(self.model._base_manager.db_manager(using).raw(sql, params)), None)
        if session is not None:
            user_model = opts.get_field("user").related_model
            known = {user_model._meta.pk.attname: session.user_id}
            known.update((name, getattr(session, alias)) for alias, name in user_columns)
            if _has_field(user_model, "is_active"):
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


@functools.cache
def _live_session_user_sql(using: str, user_id_field: str) -> str:
    """The SQL of ``user_of_live_session`` on one database: the user's columns and the
    session's binding, for a live session of that user."""
    connection = connections[using]
    quote = connection.ops.quote_name
    opts = RefreshToken._meta
    user_opts = opts.get_field("user").related_model._meta

    def column(name: str) -> str:
        return f"s.{quote(opts.get_field(name).column)}"

    user_columns = ", ".join(f"u.{quote(f.column)}" for f in user_opts.concrete_fields)
    user_id = f"u.{quote(user_opts.get_field(user_id_field).column)}"
    return (
        f"SELECT {user_columns}, {column('password_binding')} AS session_password_binding "
        f"FROM {quote(opts.db_table)} s INNER JOIN {quote(user_opts.db_table)} u "
        f"ON u.{quote(user_opts.pk.column)} = {column('user')} "
        f"WHERE s.{quote(opts.pk.column)} = %s AND {user_id} = %s "
        f"AND {column('revoked_at')} IS NULL AND {column('expires_at')} > %s"
    )


@functools.cache
def _insert_for_password_sql(using: str) -> str:
    """The INSERT of ``insert_for_password`` on one database."""
    connection = connections[using]
    quote = connection.ops.quote_name
    opts = RefreshToken._meta
    user_opts = opts.get_field("user").related_model._meta
    fields = opts.local_concrete_fields
    table = quote(opts.db_table)

    def column(name: str) -> str:
        return f"o.{quote(opts.get_field(name).column)}"

    # The mode of the lock that the login's own UPDATE of the row (Django's last_login,
    # in the same transaction) takes: a shared lock here had two logins of one user each
    # wait for the other's before upgrading it, a deadlock. FOR NO KEY UPDATE still
    # waits for a password change (an UPDATE of the row), and lets the sessions'
    # foreign-key checks (FOR KEY SHARE) through.
    lock = ""
    if connection.features.has_select_for_update:
        no_key = connection.features.has_select_for_no_key_update
        lock = f" {connection.ops.for_update_sql(no_key=no_key)}"
    return (
        f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(['%s'] * len(fields))} FROM {quote(user_opts.db_table)} "
        f"WHERE {quote(user_opts.pk.column)} = %s "
        f"AND {quote(user_opts.get_field('password').column)} = %s{lock} "
        # The user's other live sessions (the session cap's count), by the same
        # conditions as RefreshTokenQuerySet.live().
        f"RETURNING (SELECT COUNT(*) FROM {table} o WHERE {column('user')} = %s "
        f"AND {column('revoked_at')} IS NULL AND {column('expires_at')} > %s "
        f"AND {column('id')} <> %s), "
        # Whether any other session of the user, live or not, came from this device:
        # the new-device email's question, answered by the rows the purge has left.
        f"EXISTS (SELECT 1 FROM {table} o WHERE {column('user')} = %s "
        f"AND {column('device')} = %s AND {column('id')} <> %s)"
    )


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


@functools.cache
def _advance_sql(using: str, rotate: bool) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The UPDATE of ``advance`` on one database, and the user columns it returns as
    (alias, field attname) pairs."""
    quote = connections[using].ops.quote_name
    opts = RefreshToken._meta
    user_opts = opts.get_field("user").related_model._meta
    table = quote(opts.db_table)

    def column(name: str) -> str:
        return f"{table}.{quote(opts.get_field(name).column)}"

    def of_user(name: str) -> str:
        return (
            f"(SELECT u.{quote(user_opts.get_field(name).column)} "
            f"FROM {quote(user_opts.db_table)} u "
            f"WHERE u.{quote(user_opts.pk.column)} = {column('user')})"
        )

    user_fields = ["password"]
    if api_settings.USER_ID_FIELD != user_opts.pk.attname:
        user_fields.append(api_settings.USER_ID_FIELD)
    user_columns = tuple((f"user_{name}", name) for name in user_fields)
    assignments = [f"{quote(opts.get_field('last_used_at').column)} = %s"]
    if rotate:
        generation = quote(opts.get_field("generation").column)
        assignments += [
            f"{generation} = {generation} + 1",
            f"{quote(opts.get_field('rotated_at').column)} = %s",
        ]
    absolute = column("absolute_expires_at")
    assignments.append(
        f"{quote(opts.get_field('expires_at').column)} = CASE WHEN {column('remember_me')} "
        f"THEN (CASE WHEN {absolute} < %s THEN {absolute} ELSE %s END) "
        f"ELSE (CASE WHEN {absolute} < %s THEN {absolute} ELSE %s END) END"
    )
    active = ""
    if _has_field(user_opts.model, "is_active"):
        active = (
            f" AND EXISTS (SELECT 1 FROM {quote(user_opts.db_table)} a "
            f"WHERE a.{quote(user_opts.pk.column)} = {column('user')} "
            f"AND a.{quote(user_opts.get_field('is_active').column)})"
        )
    returning = [f"{column(f.name)}" for f in opts.concrete_fields]
    returning += [f"{of_user(name)} AS {alias}" for alias, name in user_columns]
    sql = (
        f"UPDATE {table} SET {', '.join(assignments)} "
        f"WHERE {column('id')} = %s AND {column('generation')} = %s "
        f"AND {column('revoked_at')} IS NULL AND {column('expires_at')} > %s{active} "
        f"RETURNING {', '.join(returning)}"
    )
    return sql, user_columns


class RefreshToken(models.Model):
    """A session (a refresh-token family). The token itself is never stored.

    ``expires_at`` is the idle expiry, already capped at ``absolute_expires_at``, so a
    single indexed column answers "is it live?" for both lifetimes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="refresh_tokens"
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
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # A MAC of the user's password hash at login (tokens.crypto): the session ends when
    # the password changes by any path, as Django's sessions do with
    # get_session_auth_hash(). Useless without SECRET_KEY, like the refresh token.
    password_binding = models.CharField(max_length=64, editable=False)

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
