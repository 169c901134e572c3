"""The session model's hand-written SQL: the statements the ORM cannot say in one query.

Each builder takes the model (``revoke``: a queryset of it), the database alias and the
values, and returns the SQL with named parameters (``%(name)s``) and those parameters,
prepared for that database (``revoke`` alone is positional: it embeds a compiled
queryset). The text of the others is built once per model, database and every setting
it reads (``functools.cache`` keys on all of them). Only quoted identifiers and
Django-compiled SQL are interpolated into it; values are always parameters.
"""

import functools
from datetime import datetime

from django.db import connections
from rest_framework_simplejwt.settings import api_settings

from tokens.settings import tokens_settings

# The user columns ``advance`` returns: (column alias, field attname) pairs.
UserColumns = tuple[tuple[str, str], ...]


def revoke(queryset, using: str, reason: str, now: datetime, user_id=None) -> tuple[str, list]:
    """``UPDATE`` the unrevoked sessions of ``queryset`` to revoked, ``RETURNING`` their
    id, user id and IP address; with ``user_id`` (all of them are that user's) the
    statement names the user too, so PostgreSQL reads the user's sessions by index: from
    the subquery alone it expects many rows and scans the table.

    The one positional statement: the queryset compiles to ``%s`` parameters, so its
    values of its own (``revoked_at``, ``revoke_reason``, the user) come first. Not
    cached: the queryset differs from call to call.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    opts = queryset.model._meta

    def column(name: str) -> str:
        return quote(opts.get_field(name).column)

    targets = queryset.filter(revoked_at__isnull=True)
    if user_id is not None:
        targets = targets.filter(user_id=user_id)
    targets = targets.order_by().values("pk")
    targets_sql, targets_params = targets.query.get_compiler(using=using).as_sql()
    revoked_at, pk = column("revoked_at"), quote(opts.pk.column)
    own, of_user = [], ""
    if user_id is not None:
        own = [opts.get_field("user").get_db_prep_value(user_id, connection)]
        of_user = f" AND {column('user')} = %s"
    sql = (
        f"UPDATE {quote(opts.db_table)} SET {revoked_at} = %s, {column('revoke_reason')} = %s "
        f"WHERE {revoked_at} IS NULL{of_user} AND {pk} IN ({targets_sql}) "
        f"RETURNING {pk}, {column('user')}, {column('ip_address')}"
    )
    now_value = opts.get_field("revoked_at").get_db_prep_value(now, connection)
    return sql, [now_value, str(reason), *own, *targets_params]


def insert_for_password(
    model, using: str, session, password_hash: str, now: datetime
) -> tuple[str, dict]:
    """``INSERT`` ``session`` only while its user's password is ``password_hash``,
    ``RETURNING`` the count of the user's other live sessions and whether any other
    session of the user came from the same device.

    Parameters: ``new_<attname>`` for each of the session's columns, ``password`` and
    ``now``.
    """
    connection = connections[using]
    opts = model._meta
    params = {
        f"new_{f.attname}": f.get_db_prep_save(f.pre_save(session, add=True), connection)
        for f in opts.local_concrete_fields
    }
    params["password"] = password_hash
    params["now"] = opts.get_field("expires_at").get_db_prep_value(now, connection)
    return _insert_for_password_sql(model, using), params


@functools.cache
def _insert_for_password_sql(model, using: str) -> str:
    connection = connections[using]
    quote = connection.ops.quote_name
    opts = model._meta
    user_opts = opts.get_field("user").related_model._meta
    fields = opts.local_concrete_fields
    table = quote(opts.db_table)
    new_id, new_user = f"%(new_{opts.pk.attname})s", f"%(new_{opts.get_field('user').attname})s"

    def column(name: str) -> str:
        return f"o.{quote(opts.get_field(name).column)}"

    # The lock mode of the login's own UPDATE of the row (last_login, same transaction):
    # a shared lock had two logins of one user each wait for the other's, a deadlock.
    # FOR NO KEY UPDATE still waits for a password change (an UPDATE of the row) and
    # lets the sessions' foreign-key checks (FOR KEY SHARE) through.
    lock = ""
    if connection.features.has_select_for_update:
        no_key = connection.features.has_select_for_no_key_update
        lock = f" {connection.ops.for_update_sql(no_key=no_key)}"
    return (
        f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(f'%(new_{f.attname})s' for f in fields)} "
        f"FROM {quote(user_opts.db_table)} WHERE {quote(user_opts.pk.column)} = {new_user} "
        f"AND {quote(user_opts.get_field('password').column)} = %(password)s{lock} "
        # The user's other live sessions (the session cap's count), by the same
        # conditions as RefreshTokenQuerySet.live().
        f"RETURNING (SELECT COUNT(*) FROM {table} o WHERE {column('user')} = {new_user} "
        f"AND {column('revoked_at')} IS NULL AND {column('expires_at')} > %(now)s "
        f"AND {column('id')} <> {new_id}), "
        # Whether any other session of the user, live or not, came from this device:
        # the new-device email's question, answered by the rows the purge has left.
        f"EXISTS (SELECT 1 FROM {table} o WHERE {column('user')} = {new_user} "
        f"AND {column('device')} = %(new_device)s AND {column('id')} <> {new_id})"
    )


def live_session_user(model, using: str, session_id, user_id, now: datetime) -> tuple[str, dict]:
    """``SELECT`` the user's columns and the session's ``password_binding`` and
    ``dpop_jkt`` (as ``session_password_binding``, ``session_dpop_jkt``) for a live
    session of that user (``user_id`` is the value of simplejwt's ``USER_ID_FIELD``),
    joined in one query."""
    connection = connections[using]
    opts = model._meta
    user_id_field = api_settings.USER_ID_FIELD
    user_field = opts.get_field("user").related_model._meta.get_field(user_id_field)
    params = {
        "session_id": opts.pk.get_db_prep_value(session_id, connection),
        "user_id": user_field.get_db_prep_value(user_id, connection),
        # An aware datetime of ours: only the database's adaptation (prepared=True skips
        # the field's checks for user input, a tenth of the hottest query's set-up).
        "now": opts.get_field("expires_at").get_db_prep_value(now, connection, prepared=True),
    }
    return _live_session_user_sql(model, using, user_id_field), params


@functools.cache
def _live_session_user_sql(model, using: str, user_id_field: str) -> str:
    quote = connections[using].ops.quote_name
    opts = model._meta
    user_opts = opts.get_field("user").related_model._meta

    def column(name: str) -> str:
        return f"s.{quote(opts.get_field(name).column)}"

    user_columns = ", ".join(f"u.{quote(f.column)}" for f in user_opts.concrete_fields)
    user_id = f"u.{quote(user_opts.get_field(user_id_field).column)}"
    return (
        f"SELECT {user_columns}, {column('password_binding')} AS session_password_binding, "
        f"{column('dpop_jkt')} AS session_dpop_jkt "
        f"FROM {quote(opts.db_table)} s INNER JOIN {quote(user_opts.db_table)} u "
        f"ON u.{quote(user_opts.pk.column)} = {column('user')} "
        f"WHERE s.{quote(opts.pk.column)} = %(session_id)s AND {user_id} = %(user_id)s "
        f"AND {column('revoked_at')} IS NULL AND {column('expires_at')} > %(now)s"
    )


# The session columns ``advance`` returns (in the model's field order): what a refresh
# reads of the session (its tokens, the password binding, the audit line). The others
# are deferred on the returned instance, as with ``QuerySet.only()``: each would cost a
# timestamp to parse and a field to set on every refresh, for nobody.
ADVANCE_FIELDS = (
    "id",
    "user",
    "generation",
    "authenticated_at",
    "expires_at",
    "password_binding",
    "dpop_jkt",
)


def advance(
    model,
    using: str,
    session_id,
    generation: int,
    now: datetime,
    *,
    idle_until: datetime,
    remember_me_until: datetime,
    rotate: bool,
    dpop_jkt: str | None = None,
) -> tuple[str, dict, UserColumns]:
    """``UPDATE`` a live session at ``generation`` of an active user: its last use, its
    idle expiry (``idle_until`` or ``remember_me_until``, capped at the absolute one)
    and, with ``rotate``, its generation; ``RETURNING`` the session's ADVANCE_FIELDS and the
    user's password (and simplejwt's ``USER_ID_FIELD`` when that is not the primary
    key), aliased as the returned (alias, attname) pairs say. A session bound to a DPoP
    key matches only with that key's thumbprint as ``dpop_jkt``."""
    connection = connections[using]
    opts = model._meta

    def prep(name: str, value: datetime) -> object:
        # Aware datetimes of ours: only the database's adaptation (prepared=True skips the
        # field's checks for user input, which cost a tenth of this statement's set-up).
        return opts.get_field(name).get_db_prep_value(value, connection, prepared=True)

    params = {
        "now": prep("last_used_at", now),
        "idle_until": prep("expires_at", idle_until),
        "remember_me_until": prep("expires_at", remember_me_until),
        "session_id": opts.pk.get_db_prep_value(session_id, connection),
        "generation": int(generation),
        "dpop_jkt": dpop_jkt,
        # An unbound session ('') matches any request, unless DPOP_REQUIRED: = NULL, never.
        "unbound": None if tokens_settings.DPOP_REQUIRED else "",
    }
    sql, user_columns = _advance_sql(model, using, rotate, api_settings.USER_ID_FIELD)
    return sql, params, user_columns


@functools.cache
def _advance_sql(model, using: str, rotate: bool, user_id_field: str) -> tuple[str, UserColumns]:
    quote = connections[using].ops.quote_name
    opts = model._meta
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
    if user_id_field != user_opts.pk.attname:
        user_fields.append(user_id_field)
    user_columns = tuple((f"user_{name}", name) for name in user_fields)
    assignments = [f"{quote(opts.get_field('last_used_at').column)} = %(now)s"]
    if rotate:
        generation = quote(opts.get_field("generation").column)
        assignments += [
            f"{generation} = {generation} + 1",
            f"{quote(opts.get_field('rotated_at').column)} = %(now)s",
        ]
    absolute = column("absolute_expires_at")
    assignments.append(
        f"{quote(opts.get_field('expires_at').column)} = CASE WHEN {column('remember_me')} "
        f"THEN (CASE WHEN {absolute} < %(remember_me_until)s THEN {absolute} "
        f"ELSE %(remember_me_until)s END) "
        f"ELSE (CASE WHEN {absolute} < %(idle_until)s THEN {absolute} "
        f"ELSE %(idle_until)s END) END"
    )
    active = ""
    if has_field(user_opts.model, "is_active"):
        active = (
            f" AND EXISTS (SELECT 1 FROM {quote(user_opts.db_table)} a "
            f"WHERE a.{quote(user_opts.pk.column)} = {column('user')} "
            f"AND a.{quote(user_opts.get_field('is_active').column)})"
        )
    returning = [column(f.name) for f in opts.concrete_fields if f.name in ADVANCE_FIELDS]
    returning += [f"{of_user(name)} AS {alias}" for alias, name in user_columns]
    sql = (
        f"UPDATE {table} SET {', '.join(assignments)} "
        f"WHERE {column('id')} = %(session_id)s AND {column('generation')} = %(generation)s "
        f"AND {column('revoked_at')} IS NULL AND {column('expires_at')} > %(now)s{active} "
        f"AND ({column('dpop_jkt')} = %(unbound)s OR {column('dpop_jkt')} = %(dpop_jkt)s) "
        f"RETURNING {', '.join(returning)}"
    )
    return sql, user_columns


def has_field(model, name: str) -> bool:
    """Whether ``model`` has a concrete field ``name`` (a custom user may have no
    ``is_active``)."""
    return any(f.name == name for f in model._meta.concrete_fields)


def fetch_one(
    model, using: str, statement: str, params, fields: tuple[str, ...] | None = None
) -> tuple[object, tuple] | None:
    """Run ``statement`` and read its first row: the leading columns as a ``model``
    instance (its concrete fields in their order, or only ``fields``, in the model's
    order: the others deferred), and the values of the columns after them. None when
    there is no row.

    What ``Manager.raw()`` would do, without its set-up on every call (matching columns
    to fields, collecting converters): on the two hottest statements (an authenticated
    request's join, a refresh's update) that set-up cost a third as much as the query.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return None
    names, converters = _loading(model, connection, fields)
    values = list(row[: len(names)])
    for index, expression, functions in converters:
        for function in functions:
            values[index] = function(values[index], expression, connection)
    return model.from_db(using, names, values), row[len(names) :]


@functools.lru_cache(maxsize=32)
def _loading(model, connection, names: tuple[str, ...] | None) -> tuple[list[str], tuple]:
    """The attnames of the model's concrete fields (those named, when ``names`` is
    given), and (index, column, converters) for each field the database's values need
    converting for (SQLite's datetimes, for one). Per connection object: each thread
    has its own, and a converter may be bound to it."""
    fields = [f for f in model._meta.concrete_fields if names is None or f.name in names]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((index, column, tuple(functions)))
    return [field.attname for field in fields], tuple(converters)
