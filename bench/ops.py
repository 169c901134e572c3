"""Operations benchmark: the purge and the sessions changelist at a million sessions.

    .venv/bin/python bench/ops.py [--rows 1000000] [--small 1000] [--only sqlite|postgres]

For each database (a temporary SQLite file; PostgreSQL databases ``bench_ops*`` on
127.0.0.1, created here and dropped at the end) it bulk-inserts ``--rows`` expired
sessions into a migrated template, then on fresh copies of the same data measures:

- ``manage.py purge_expired_tokens --batch-size N`` in a subprocess, for each
  ``--batch-sizes``: wall seconds and peak RSS, and the time per batch (the length of
  each transaction, start-up excluded);
- the floor: one raw ``DELETE ... WHERE expires_at <= now`` through ``manage.py shell``
  (the same interpreter and Django start-up), seconds and peak RSS;
- a bare ``manage.py shell -c pass`` (start-up alone);
- the sessions changelist (bench/changelist.py) at ``--rows`` and at ``--small`` rows:
  median seconds and queries per page.

Not part of the test suite. Prints a Markdown table.
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_PREFIX = "bench_ops"
USERS = 1000

COLUMNS = (
    "id, user_id, generation, created_at, last_used_at, rotated_at, expires_at, "
    "absolute_expires_at, revoked_at, revoke_reason, remember_me, user_agent, ip_address"
)
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari"


def env_for(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, ALLOWED_HOSTS="testserver", DEBUG="false")
    env.setdefault("SECRET_KEY", "bench-" + "k" * 50)
    return env


def run(args: list[str], database_url: str) -> tuple[float, float, str]:
    """Run a child process; its wall seconds, its own peak RSS (MB), its stdout."""
    start = time.perf_counter()
    child = subprocess.Popen(  # fixed argv, no shell
        args, cwd=ROOT, env=env_for(database_url), stdout=subprocess.PIPE, text=True
    )
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{args} failed ({child.returncode}): {out}")
    return seconds, usage.ru_maxrss / 1024, out


def manage(*args: str) -> list[str]:
    return [PYTHON, "manage.py", *args]


FLOOR = (
    "from django.db import connection; from django.utils import timezone; "
    "cursor = connection.cursor(); "
    "cursor.execute('DELETE FROM tokens_refreshtoken WHERE expires_at <= %s', [timezone.now()]); "
    "print(cursor.rowcount)"
)


def session_rows(count: int, user_ids: list, now: datetime):
    """Expired sessions: logins 40 to 10 days ago, idle expiry 7 days after login."""
    rng = random.Random(42)
    for i in range(count):
        created = now - timedelta(days=40) + timedelta(seconds=i * 2_592_000 / max(count, 1))
        yield (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            user_ids[i % len(user_ids)],
            1,
            created,
            created,
            None,
            created + timedelta(days=7),
            created + timedelta(days=30),
            None,
            "",
            False,
            UA,
            f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
        )


# SQLite ------------------------------------------------------------------------------


def sqlite_template(path: Path, rows: int) -> None:
    url = f"sqlite:///{path}"
    run(manage("migrate", "-v", "0"), url)
    now = datetime.now(UTC)
    db = sqlite3.connect(path)
    users = [uuid.uuid4() for _ in range(USERS)]
    db.executemany(
        "INSERT INTO accounts_user (id, password, email, is_superuser, is_active, is_staff, "
        "date_joined) VALUES (?, '!', ?, 0, 1, 0, ?)",
        [(u.hex, f"user{i}@bench.example", fmt(now)) for i, u in enumerate(users)],
    )

    def sqlite_values(row):
        sid, uid, gen, created, used, rotated, expires, absolute = row[:8]
        return (
            sid.hex,
            uid.hex,
            gen,
            *map(fmt, (created, used)),
            rotated,
            fmt(expires),
            fmt(absolute),
        )

    db.executemany(
        "INSERT INTO tokens_refreshtoken (id, user_id, generation, created_at, last_used_at, "
        "rotated_at, expires_at, absolute_expires_at, revoked_at, revoke_reason, remember_me, "
        f"user_agent, ip_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, '', 0, '{UA}', '10.0.0.1')",
        (sqlite_values(row) for row in session_rows(rows, users, now)),
    )
    db.commit()
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def fmt(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(sep=" ")  # Django's SQLite format (UTC)


def sqlite_copy(template: Path, target: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


# PostgreSQL ----------------------------------------------------------------------------


def pg(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def pg_drop(name: str) -> None:
    pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_template(name: str, rows: int) -> None:
    pg_drop(name)
    pg(f'CREATE DATABASE "{name}"')
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    run(manage("migrate", "-v", "0"), url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO accounts_user (id, password, email, is_superuser, is_active, is_staff, "
            "date_joined) SELECT gen_random_uuid(), '!', 'user' || i || '@bench.example', "
            "false, true, false, now() FROM generate_series(1, %s) i",
            [USERS],
        )
        # Server-side bulk insert: logins 40 to 10 days ago, idle expiry 7 days later.
        conn.execute(
            f"INSERT INTO tokens_refreshtoken ({COLUMNS}) "
            "SELECT gen_random_uuid(), u.ids[1 + i %% %(users)s], 1, c, c, NULL, "
            "c + interval '7 days', c + interval '30 days', NULL, '', false, %(ua)s, "
            "('10.0.0.' || (i %% 250))::inet "
            "FROM (SELECT array_agg(id) AS ids FROM accounts_user) u, "
            "generate_series(0, %(rows)s - 1) i, "
            "LATERAL (SELECT now() - interval '40 days' "
            "+ i * (interval '30 days' / greatest(%(rows)s, 1)) AS c) t",
            {"users": USERS, "rows": rows, "ua": UA},
        )
        conn.execute("VACUUM ANALYZE")


def pg_copy(template: str, target: str) -> str:
    pg_drop(target)
    pg(f'CREATE DATABASE "{target}" TEMPLATE "{template}"')
    return f"postgres://postgres@127.0.0.1:5432/{target}"


# The measurements ----------------------------------------------------------------------


def median_run(runs: list[tuple[float, float, str]]) -> tuple[float, float, str]:
    """The run with the median time (each run on its own fresh copy of the data)."""
    return sorted(runs)[len(runs) // 2]


def measure(name: str, fresh, rows: int, small_url: str, sizes: list[int], repeat: int) -> dict:
    result = {"db": name, "purges": {}}
    for size in sizes:
        runs = []
        for _ in range(repeat):
            url = fresh(f"purge_{size}")
            runs.append(run(manage("purge_expired_tokens", "--batch-size", str(size)), url))
            assert f"Deleted {rows} " in runs[-1][2], runs[-1][2]
        result["purges"][size] = median_run(runs)
    runs = []
    for _ in range(repeat):
        url = fresh("floor")
        runs.append(run(manage("shell", "-v", "0", "-c", FLOOR), url))
        assert runs[-1][2].strip() == str(rows), runs[-1][2]
    result["floor"] = median_run(runs)
    result["bare"] = run(manage("shell", "-v", "0", "-c", "pass"), url)
    url = fresh("changelist")
    result["changelist_big"] = json.loads(run([PYTHON, "bench/changelist.py"], url)[2])
    result["changelist_small"] = json.loads(run([PYTHON, "bench/changelist.py"], small_url)[2])
    return result


def bench_sqlite(rows: int, small: int, batch_sizes: list[int], repeat: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_ops_"))
    try:
        template, small_db = tmp / "template.sqlite3", tmp / "small.sqlite3"
        start = time.perf_counter()
        sqlite_template(template, rows)
        print(f"sqlite: {rows} rows inserted in {time.perf_counter() - start:.1f}s", flush=True)
        sqlite_template(small_db, small)
        return measure(
            "SQLite",
            lambda label: sqlite_copy(template, tmp / f"{label}.sqlite3"),
            rows,
            f"sqlite:///{small_db}",
            batch_sizes,
            repeat,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_postgres(rows: int, small: int, batch_sizes: list[int], repeat: int) -> dict:
    template, small_db = f"{PG_PREFIX}_tpl", f"{PG_PREFIX}_small"
    copies = []
    try:
        start = time.perf_counter()
        pg_template(template, rows)
        print(f"postgres: {rows} rows inserted in {time.perf_counter() - start:.1f}s", flush=True)
        pg_template(small_db, small)

        def fresh(label: str) -> str:
            if f"{PG_PREFIX}_{label}" not in copies:
                copies.append(f"{PG_PREFIX}_{label}")
            return pg_copy(template, f"{PG_PREFIX}_{label}")

        small_url = f"postgres://postgres@127.0.0.1:5432/{small_db}"
        return measure("PostgreSQL", fresh, rows, small_url, batch_sizes, repeat)
    finally:
        for name in [template, small_db, *copies]:
            pg_drop(name)


def table(results: list[dict], rows: int, small: int) -> str:
    """Two Markdown tables: the purge against its floor, the changelist at two sizes."""
    lines = [
        f"| database | purge {rows:,} rows, batch size | seconds | peak RSS "
        "| floor: one raw DELETE | purge / floor | per batch (transaction) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        floor, bare = r["floor"], r["bare"]
        for size, purge in r["purges"].items():
            batches = -(-rows // size)
            per_batch = (purge[0] - bare[0]) / batches
            lines.append(
                f"| {r['db']} | {size:,} | {purge[0]:.2f} s | {purge[1]:.0f} MB "
                f"| {floor[0]:.2f} s, {floor[1]:.0f} MB | {purge[0] / floor[0]:.2f}x "
                f"| {per_batch * 1000:.0f} ms |"
            )
        lines.append(
            f"| {r['db']} | bare `manage.py` start-up | {bare[0]:.2f} s | {bare[1]:.0f} MB | | | |"
        )
    lines += [
        "",
        f"| database | changelist at {small:,} rows | changelist at {rows:,} rows | ratio |",
        "|---|---|---|---|",
    ]
    for r in results:
        small_c, big_c = r["changelist_small"], r["changelist_big"]
        lines.append(
            f"| {r['db']} | {small_c['seconds'] * 1000:.1f} ms, {small_c['queries']} queries "
            f"| {big_c['seconds'] * 1000:.1f} ms, {big_c['queries']} queries "
            f"| {big_c['seconds'] / small_c['seconds']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument(
        "--batch-sizes", default="10000,20000,50000", help="purge batch sizes to measure (csv)"
    )
    # Runs per measurement (median reported): a PostgreSQL purge takes about a second,
    # so noise from other work on the machine matters; a SQLite one takes 40 s.
    parser.add_argument("--repeat-sqlite", type=int, default=1)
    parser.add_argument("--repeat-postgres", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.batch_sizes.split(",")]
    repeat = {"sqlite": args.repeat_sqlite, "postgres": args.repeat_postgres}
    results = []
    if args.only in (None, "sqlite"):
        results.append(bench_sqlite(args.rows, args.small, sizes, repeat["sqlite"]))
    if args.only in (None, "postgres"):
        results.append(bench_postgres(args.rows, args.small, sizes, repeat["postgres"]))
    for r in results:
        print(r["db"], "changelist queries:", *r["changelist_big"]["sql"], sep="\n  ")
    print(table(results, args.rows, args.small))


if __name__ == "__main__":
    main()
