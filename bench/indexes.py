"""The session table's indexes on PostgreSQL: the plans and times of the per-user
statements with one user holding thousands of sessions, and WAL bytes per refresh,
as migrated and with the plain ``user_id`` index toggled (dropped if the migrations
have it, created if not).

    DATABASE_URL=postgres://postgres@127.0.0.1:5499/postgres \\
        .venv/bin/python bench/indexes.py [--sessions 5000] [--refreshes 2000]

For each variant (as migrated; the plain ``user_id`` index toggled; each ``--try``
SQL) it creates ``bench_idx_<random>`` on that server (dropped after), migrates it,
seeds ``--users`` users with ``--per-user`` live sessions each and one user with
``--sessions``: the cap's
live ones and the rest revoked by the cap (a client that logs in again and again) or
expired and not yet purged, then EXPLAIN ANALYZEs (median of 5, each rolled back) the
statements the service runs for: a login at the cap (the insert and the eviction
UPDATE), the session list, logout-all, the admin's list of one user's sessions and a
user's deletion. WAL is pg_current_wal_lsn() over ``--refreshes`` chained refreshes
(after a CHECKPOINT and a first pass over the same sessions, so no full-page images):
the whole cluster's, so run it on one nothing else writes to (docs/performance.md,
"Capacity", says how to start a scratch cluster). Not part of the test suite.
"""

import argparse
import json
import os
import statistics
import sys
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
PLAIN_INDEX = "tokens_refreshtoken_user_id_bench"


def seed(connection, args, limit: int) -> str:
    """Background users and the heavy user's sessions, in SQL; the heavy user's id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (id, password, email, is_superuser, is_active, "
            "is_staff, date_joined) SELECT gen_random_uuid(), 'md5$x$y', "
            "'user' || i || '@bench.example', false, true, false, now() "
            "FROM generate_series(0, %s) i",
            [args.users],
        )
        cursor.execute("SELECT id FROM accounts_user WHERE email = 'user0@bench.example'")
        heavy = cursor.fetchone()[0]
        insert = (
            "INSERT INTO tokens_refreshtoken (id, user_id, generation, created_at, "
            "last_used_at, authenticated_at, expires_at, absolute_expires_at, revoked_at, "
            "revoke_reason, remember_me, user_agent, device, password_binding) "
            "SELECT gen_random_uuid(), u.id, 1, c, c, c, c + interval '7 days', "
            "c + interval '30 days', {revoked}, {reason}, false, 'ua', 'Firefox on Linux', "
            "'x' FROM accounts_user u, generate_series(1, {n}) i, "
            "LATERAL (SELECT now() - ({age}) AS c) t WHERE {users}"
        )
        # Live sessions of each other user.
        cursor.execute(
            insert.format(
                revoked="NULL",
                reason="''",
                n=args.per_user,
                age="i * interval '1 minute'",
                users="u.id <> %s",
            ),
            [heavy],
        )
        rest = args.sessions - limit
        # The heavy user: half its history revoked by the cap over the last days...
        cursor.execute(
            insert.format(
                revoked="c + interval '1 hour'",
                reason="'evicted'",
                n=rest // 2,
                age="interval '6 days' * i / %s" % (rest // 2),
                users="u.id = %s",
            ),
            [heavy],
        )
        # ... half expired and not purged yet (idle 7 days, from 8 to 20 days ago) ...
        cursor.execute(
            insert.format(
                revoked="NULL",
                reason="''",
                n=rest - rest // 2,
                age="interval '8 days' + interval '12 days' * i / %s" % (rest - rest // 2),
                users="u.id = %s",
            ),
            [heavy],
        )
        # ... and the cap's live ones, used within the last hour.
        cursor.execute(
            insert.format(
                revoked="NULL",
                reason="''",
                n=limit,
                age="i * interval '30 seconds'",
                users="u.id = %s",
            ),
            [heavy],
        )
        cursor.execute("ANALYZE")
    return str(heavy)


def captured(operation) -> list[tuple[str, object]]:
    """The data statements ``operation`` runs, with their parameters; rolled back."""
    from django.db import connection, transaction

    statements = []

    def capture(execute, statement, params, many, context):
        if not statement.lstrip().upper().startswith(CONTROL):
            statements.append((statement, params))
        return execute(statement, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(capture):
        operation()
        transaction.set_rollback(True)
    return statements


def index_names(plan: dict) -> list[str]:
    names = [plan["Index Name"]] if "Index Name" in plan else []
    if plan.get("Node Type") == "Seq Scan":
        names.append(f"Seq Scan {plan['Relation Name']}")
    for child in plan.get("Plans", []):
        names += index_names(child)
    return names


def explain(statement: str, params) -> dict:
    """Median execution time of 5 EXPLAIN ANALYZEs (each rolled back) and its scans."""
    from django.db import connection, transaction

    times, plan = [], None
    for _ in range(5):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            times.append(plan[0]["Execution Time"])
            transaction.set_rollback(True)
    top = plan[0]["Plan"]
    return {
        "ms": statistics.median(times),
        "scans": index_names(top),
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
    }


def operations(heavy_id: str) -> dict:
    from django.contrib.auth import get_user_model

    from tokens import services
    from tokens.models import RefreshToken

    user = get_user_model().objects.get(pk=heavy_id)
    return {
        "login at the cap": lambda: services.start_session(user),
        "session list": lambda: services.live_sessions(user),
        "logout-all": lambda: services.logout_all(user),
        "admin: one user's sessions": lambda: list(
            RefreshToken.objects.filter(user_id=heavy_id).order_by("-created_at", "-id")[:100]
        ),
        # The user page's inline (tokens.admin.SessionInline): recent live sessions.
        "admin: user page's live sessions": lambda: list(
            RefreshToken.objects.live().filter(user_id=heavy_id).order_by("-last_used_at")[:10]
        ),
        "user deleted": user.delete,
    }


def plans(heavy_id: str) -> list[dict]:
    out = []
    for label, operation in operations(heavy_id).items():
        for number, (statement, params) in enumerate(captured(operation)):
            if not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE")):
                continue
            result = explain(statement, params)
            out.append({"operation": label, "statement": number, "sql": statement, **result})
    return out


def wal_per_refresh(count: int) -> float:
    """WAL bytes per refresh, chained over ``count`` sessions of the background users."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from tokens import services

    users = get_user_model().objects.exclude(email="user0@bench.example").order_by("pk")[:count]
    tokens = [services.start_session(user).refresh_token for user in users]
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        tokens = [services.refresh(token).refresh_token for token in tokens]  # first pass
        cursor.execute("SELECT pg_current_wal_lsn()")
        (before,) = cursor.fetchone()
        tokens = [services.refresh(token).refresh_token for token in tokens]
        cursor.execute("SELECT pg_current_wal_lsn()")
        (after,) = cursor.fetchone()
        cursor.execute("SELECT pg_wal_lsn_diff(%s, %s)", [after, before])
        (diff,) = cursor.fetchone()
        by_kind = {}
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_walinspect'")
        if cursor.fetchone():  # PostgreSQL 15+: the WAL by record type, counted
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
            cursor.execute(
                'SELECT "resource_manager/record_type", count, combined_size '
                "FROM pg_get_wal_stats(%s, %s, true) WHERE count > 0",
                [before, after],
            )
            by_kind = {
                kind: (count / len(tokens), size / len(tokens))
                for kind, count, size in cursor.fetchall()
            }
    return float(diff) / len(tokens), by_kind


def toggle_plain_index() -> str:
    """Drop the plain user_id index the migrations made, or create one; what was done."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'tokens_refreshtoken' "
            "AND indexdef LIKE '%%(user_id)'"
        )
        row = cursor.fetchone()
        if row:
            cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(row[0])).as_string())
            return f"without {row[0]}"
        cursor.execute(f"CREATE INDEX {PLAIN_INDEX} ON tokens_refreshtoken (user_id)")
        cursor.execute("ANALYZE tokens_refreshtoken")
        return f"with {PLAIN_INDEX} (user_id)"


def measure_variant(url: str, label: str, change, args) -> tuple[str, dict]:
    """A fresh database: migrate, seed, apply ``change``, the plans and WAL per refresh."""
    from django.core.management import call_command
    from django.db import connection

    from tokens.settings import tokens_settings

    name = f"bench_idx_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0)
        heavy = seed(connection, args, tokens_settings.SESSIONS_PER_USER_LIMIT)
        label = change() or label
        with connection.cursor() as cursor:
            # No REINDEX: the indexes stay as the inserts grew them, as in production
            # (an index built by CREATE INDEX or REINDEX is packed fuller and splits
            # sooner: every variant's WAL per refresh then rose by about 300 bytes).
            cursor.execute("VACUUM ANALYZE tokens_refreshtoken")
        wal, by_kind = wal_per_refresh(args.refreshes)
        result = {"plans": plans(heavy), "wal_per_refresh": wal, "wal_by_kind": by_kind}
        if args.keep:
            print(f"kept database {name}")
            name = None
        return label, result
    finally:
        connection.close()
        if name:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def run_sql(statements: str):
    def change():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(statements)

    return change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5000, help="of the heavy user")
    parser.add_argument("--users", type=int, default=10_000, help="other users")
    parser.add_argument("--per-user", type=int, default=20, help="live sessions of each")
    parser.add_argument("--refreshes", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the databases (to look)")
    parser.add_argument(
        "--try", dest="tries", action="append", default=[], help="SQL run after migrating"
    )
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="authsite.settings",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-" + "k" * 60),
    )
    import logging

    import django

    django.setup()
    logging.disable(logging.CRITICAL)  # an audit line per refresh
    variants = [("as migrated", lambda: None), ("toggled", toggle_plain_index)]
    variants += [(f"with: {statements}", run_sql(statements)) for statements in args.tries]
    results = dict(measure_variant(url, label, change, args) for label, change in variants)
    print_table(results, args.sessions)


def print_table(results: dict, sessions: int) -> None:
    variants = list(results)
    print(f"One user with {sessions:,} sessions; median of 5 EXPLAIN ANALYZE, ms and scans.\n")
    print(f"| statement | {' | '.join(variants)} |")
    print("|---|" + "---|" * len(variants))
    rows = zip(*(results[v]["plans"] for v in variants), strict=True)
    for row in rows:
        label = f"{row[0]['operation']} #{row[0]['statement']}"
        cells = [f"{r['ms']:.2f} ms, {r['buffers']} buffers: {', '.join(r['scans'])}" for r in row]
        print(f"| {label} | {' | '.join(cells)} |")
    print()
    for variant in variants:
        kinds = ", ".join(
            f"{kind} {count:.2f}x {size:.0f} B"
            for kind, (count, size) in results[variant]["wal_by_kind"].items()
            if size >= 1
        )
        print(
            f"WAL per refresh, {variant}: {results[variant]['wal_per_refresh']:.0f} bytes ({kinds})"
        )
    print()
    for r in results[variants[0]]["plans"]:
        print(f"{r['operation']} #{r['statement']}: {r['sql']}")


if __name__ == "__main__":
    main()
