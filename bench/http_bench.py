"""Per-operation cost over HTTP: our service beside the floors and stock simplejwt.

    .venv/bin/python bench/http_bench.py [--only sqlite|postgres] [--seconds 4] [--rounds 3]

For each database (a temporary SQLite file; a throwaway PostgreSQL database
``bench_http_<random>`` on 127.0.0.1, dropped at the end) it migrates, starts gunicorn
with authsite/gunicorn.conf.py (one worker per server; DEBUG off, Redis db 5 for the
rate-limit counters), seeds users and sessions before each round, and drives each case
with wrk and a Lua script of bench/lua/ for ``--seconds`` over one connection. Rounds
interleave the cases (ours A, simplejwt A, ours B, ...); the table shows medians.
CPU per operation counts the gunicorn master and worker and every PostgreSQL process
(but other databases' backends). Then a concurrency run: 2 workers, 16 connections of
rotating refreshes, which must see no non-2xx response. Writes
bench/results/<UTC timestamp>.json. Not part of the test suite.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse
import json
import math
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from authsite.testing import Server, base_env, manage, start_server
from bench import procs, wrkrun
from bench.wrkrun import Load

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/5"
PASSWORD = "benchmark passphrase 1"
SESSIONS_PER_USER = 10  # logout-all revokes this many sessions per request
CONCURRENCY = 16
KEYCLOAK_REFRESHES_PER_VCPU = 120
# The warm-up round (1 s per case, not reported) sizes its pools for these rates
# (requests/s); each later round for 1.5x the rate measured in the round before. A pool
# that runs out stops wrk early (marked in the table).
WARM_UP_RATES = {"logout": 1000, "logout_all": 400}
WARM_UP_SECONDS = 1

# Servers of one database: name -> (settings module, extra environment).
SERVERS = {
    "ours": ("bench.settings", {}),
    "ours_norotate": ("bench.settings", {"REFRESH_TOKEN_ROTATE": "false"}),
    "ours_argon2": ("bench.settings", {"BENCH_PASSWORD_HASHER": "argon2"}),
    "sj": ("bench.simplejwt_settings", {}),
    "sj_argon2": ("bench.simplejwt_settings", {"BENCH_PASSWORD_HASHER": "argon2"}),
}


@dataclass
class Case:
    """One row of the table: a server, and the load wrk sends it in a round."""

    key: str
    label: str
    server: str
    load: Callable[[dict, dict], Load]  # (pool files, seeded tokens) -> what wrk sends
    pool: str | None = None  # the seeded pool it consumes, sized from its rate
    rounds: list[dict] = field(default_factory=list)
    warm_up: dict | None = None


def cases() -> list[Case]:
    """The rows, in the order a round runs them (ours, then simplejwt's same operation)."""

    def static(*args):
        return lambda f, s: Load("static.lua", list(args))

    def bearer(path, token_key):
        return lambda f, s: Load(
            "static.lua", ["GET", path, "Authorization", f"Bearer {s[token_key]}"]
        )

    def chain(pool, mode, path):
        return lambda f, s: Load("chain.lua", [str(f[pool]), "1", mode, path])

    def pool(name, cycle, method, path, header="", value="", body=""):
        return lambda f, s: Load(
            "pool.lua", [str(f[name]), "1", cycle, method, path, header, value, body]
        )

    login = '{"email": "{}", "password": "%s"}' % PASSWORD  # noqa: UP031 ("{}" is Lua's)
    return [
        Case("floor_get", "floor: bare DRF view, GET", "ours", static("GET", "/bench/floor")),
        Case("floor_post", "floor: bare DRF view, POST", "ours", static("POST", "/bench/floor")),
        Case(
            "write_floor",
            "write floor: one single-row UPDATE",
            "ours",
            lambda f, s: Load("static.lua", ["POST", f"/bench/write-floor/{s['ours_session']}"]),
        ),
        Case(
            "auth_get",
            "ours: authenticated GET /api/users/me",
            "ours",
            bearer("/api/users/me", "ours_bearer"),
        ),
        Case(
            "sj_auth_get",
            "simplejwt: authenticated GET, same serializer",
            "sj",
            bearer("/sj/me", "sj_bearer"),
        ),
        Case(
            "refresh",
            "ours: refresh, rotating",
            "ours",
            chain("ours_chain", "cookie", "/api/auth/refresh"),
        ),
        Case(
            "sj_refresh",
            "simplejwt: refresh, rotate + blacklist",
            "sj",
            chain("sj_chain", "json", "/sj/refresh"),
        ),
        Case(
            "refresh_norotate",
            "ours: refresh, REFRESH_TOKEN_ROTATE=false",
            "ours_norotate",
            chain("ours_chain_norotate", "cookie", "/api/auth/refresh"),
        ),
        Case(
            "login",
            "ours: login (MD5 hasher)",
            "ours",
            pool("login_emails", "1", "POST", "/api/auth/login", body=login),
        ),
        Case(
            "sj_login",
            "simplejwt: token obtain pair (MD5 hasher)",
            "sj",
            pool("login_emails", "1", "POST", "/sj/login", body=login),
        ),
        Case(
            "login_argon2",
            "ours: login (Argon2)",
            "ours_argon2",
            pool("argon2_emails", "1", "POST", "/api/auth/login", body=login),
        ),
        Case(
            "sj_login_argon2",
            "simplejwt: token obtain pair (Argon2)",
            "sj_argon2",
            pool("argon2_emails", "1", "POST", "/sj/login", body=login),
        ),
        Case(
            "logout",
            "ours: logout by cookie",
            "ours",
            pool("ours_logout", "0", "POST", "/api/auth/logout", "Cookie", "refresh_token={}"),
            pool="logout",
        ),
        Case(
            "sj_logout",
            "simplejwt: blacklist view",
            "sj",
            pool("sj_logout", "0", "POST", "/sj/logout", body='{"refresh": "{}"}'),
            pool="logout",
        ),
        Case(
            "logout_all",
            f"ours: logout-all, {SESSIONS_PER_USER} sessions",
            "ours",
            pool(
                "ours_logout_all", "0", "POST", "/api/auth/logout-all", "Authorization", "Bearer {}"
            ),
            pool="logout_all",
        ),
        Case(
            "sj_logout_all",
            f"simplejwt: blacklist {SESSIONS_PER_USER} outstanding (own view)",
            "sj",
            pool("sj_logout_all", "0", "POST", "/sj/logout-all", "Authorization", "Bearer {}"),
            pool="logout_all",
        ),
    ]


# Databases -----------------------------------------------------------------------------


class Database:
    """A migrated database of its own: a temporary SQLite file, or PostgreSQL's
    ``bench_http_<random>``; ``drop()`` removes it."""

    def __init__(self, vendor: str, workdir: Path):
        self.vendor = vendor
        if vendor == "sqlite":
            self.name = str(workdir / "bench.sqlite3")
            self.url = f"sqlite:///{self.name}"
        else:
            self.name = f"bench_http_{uuid.uuid4().hex[:8]}"
            self.url = f"postgres://postgres@127.0.0.1:5432/{self.name}"
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    @staticmethod
    def _admin(statement) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(statement)

    def cpu_pids(self) -> list[int]:
        return procs.postgres_pids(self.name) if self.vendor == "postgres" else []

    def drop(self) -> None:
        if self.vendor == "postgres":
            self._admin(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )


def postgres_version() -> str:
    with psycopg.connect(PG_ADMIN) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


# One database's run --------------------------------------------------------------------


def seed(env: dict, workdir: Path, prefix: str, sizes: dict) -> tuple[dict, dict]:
    """Seed one round's users and sessions; the tokens, and the pool files for Lua."""
    spec = {
        "prefix": prefix,
        "password": PASSWORD,
        "chains": CONCURRENCY,
        "sessions_per_user": SESSIONS_PER_USER,
        "login_users": 200,
        **sizes,
    }
    done = subprocess.run(
        [sys.executable, "bench/seed.py", json.dumps(spec)],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "bench.simplejwt_settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stderr}")
    seeded = json.loads(done.stdout.splitlines()[-1])
    files = {}
    for key, value in seeded.items():
        if isinstance(value, list):
            files[key] = workdir / f"{prefix}{key}.txt"
            files[key].write_text("\n".join(value) + "\n")
    return seeded, files


def cpu_snapshot(server: Server, database: Database) -> dict[int, float]:
    pids = [server.process.pid, *procs.children(server.process.pid), *database.cpu_pids()]
    return {pid: procs.cpu_us(pid) for pid in pids}


def measure(server: Server, database: Database, load: Load, seconds: float, conns=1) -> dict:
    """One wrk run, with the CPU its server (and PostgreSQL) spent during it."""
    before = cpu_snapshot(server, database)
    result = wrkrun.run(server.url, load, seconds=seconds, connections=conns)
    after = cpu_snapshot(server, database)
    cpu = sum(us - before.get(pid, 0.0) for pid, us in after.items())
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["cpu_us_per_op"] = cpu / max(result["requests"], 1)
    return result


def pool_sizes(all_cases: list[Case], seconds: float) -> dict:
    """Pool sizes for the next round: 1.5x the last measured rate, for ``seconds``."""
    sizes = {}
    for case in all_cases:
        if case.pool:
            rate = case.rounds[-1]["rps"] if case.rounds else WARM_UP_RATES[case.pool]
            sizes[case.pool] = max(sizes.get(case.pool, 0), math.ceil(1.5 * rate * seconds))
    return sizes


def bench_database(vendor: str, args, workdir: Path) -> dict:
    """Every case on one database, interleaved over the rounds; then the concurrency run."""
    database = Database(vendor, workdir)
    servers: dict[str, Server] = {}
    try:
        env = base_env(
            DATABASE_URL=database.url,
            REDIS_URL=REDIS_URL,
            SECRET_KEY=f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        )
        manage({**env, "DJANGO_SETTINGS_MODULE": "bench.simplejwt_settings"}, "migrate", "-v0")
        for name, (settings, extra) in SERVERS.items():
            server_env = {**env, "DJANGO_SETTINGS_MODULE": settings, **extra}
            servers[name] = start_server(server_env, workdir, workers=1)
        all_cases = cases()
        # Round 0 warms every server and view up (imports, caches, connections); it
        # sizes the pools of round 1 and is not reported.
        for number in range(args.rounds + 1):
            seconds = args.seconds if number else WARM_UP_SECONDS
            start = time.monotonic()
            seeded, files = seed(env, workdir, f"r{number}-", pool_sizes(all_cases, seconds))
            print(f"{vendor} round {number}: seeded in {time.monotonic() - start:.1f} s")
            for case in all_cases:
                result = measure(servers[case.server], database, case.load(files, seeded), seconds)
                case.rounds.append(result)
                print(
                    f"{vendor} round {number} {case.key}: {result['rps']:.0f} req/s"
                    + (f", {result['non2xx']} non-2xx" if result["non2xx"] else ""),
                    flush=True,
                )
        for case in all_cases:
            case.warm_up = case.rounds.pop(0)
        for server in servers.values():
            server.stop()
        concurrency = concurrency_run(env, database, workdir, args.seconds)
        return {
            "database": vendor,
            "cases": [summary(case) for case in all_cases],
            "concurrency": concurrency,
        }
    finally:
        for server in servers.values():
            server.stop()
        database.drop()


def concurrency_run(env: dict, database: Database, workdir: Path, seconds: float) -> dict:
    """Rotating refreshes on 2 workers from 16 connections, each chaining its own session."""
    server = start_server({**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}, workdir, workers=2)
    try:
        _, files = seed(env, workdir, "conc-", {"logout": 1, "logout_all": 1})
        load = Load(
            "chain.lua", [str(files["ours_chain"]), str(CONCURRENCY), "cookie", "/api/auth/refresh"]
        )
        result = measure(server, database, load, seconds, CONCURRENCY)
    finally:
        server.stop()
    result["errors_log"] = server.errors()[-2000:] if result["non2xx"] else ""
    return result


def summary(case: Case) -> dict:
    """The medians of a case's rounds, its non-2xx total and its query counts."""
    rounds = case.rounds

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    return {
        "key": case.key,
        "label": case.label,
        "rps": med("rps"),
        "us_per_request": 1e6 / med("rps"),
        "p50_us": med("p50_us"),
        "p99_us": med("p99_us"),
        "cpu_us_per_op": med("cpu_us_per_op"),
        "queries": sorted({r["queries_min"] for r in rounds} | {r["queries_max"] for r in rounds}),
        "non2xx": sum(r["non2xx"] for r in rounds),
        "socket_errors": sum(r["socket_errors"] for r in rounds),
        "exhausted": any(r["exhausted_threads"] for r in rounds),
        "rounds": rounds,
    }


# Report --------------------------------------------------------------------------------

RATIOS = [  # (what, case, against, target as "<= x" or ">= x")
    ("rotating refresh vs simplejwt's rotate + blacklist refresh", "refresh", "sj_refresh", 0.3),
    ("rotating refresh vs the write floor", "refresh", "write_floor", 1.5),
    ("authenticated GET vs simplejwt's", "auth_get", "sj_auth_get", 1.0),
    ("login (MD5) vs simplejwt's token-obtain view (MD5)", "login", "sj_login", 0.9),
]


def ratios(result: dict) -> list[dict]:
    """The five ratios of one database: four of µs per request (one connection, the
    CPU ratio beside), and refreshes per vCPU against Keycloak's sizing figure."""
    by_key = {case["key"]: case for case in result["cases"]}
    out = []
    for what, key, against, target in RATIOS:
        a, b = by_key[key], by_key[against]
        value = a["us_per_request"] / b["us_per_request"]
        out.append(
            {
                "what": what,
                "value": value,
                "cpu_value": a["cpu_us_per_op"] / b["cpu_us_per_op"],
                "target": f"<= {target}",
                "met": value <= target,
            }
        )
    per_vcpu = 1e6 / by_key["refresh"]["cpu_us_per_op"]
    multiple = per_vcpu / KEYCLOAK_REFRESHES_PER_VCPU
    out.append(
        {
            "what": f"rotating refresh per vCPU ({per_vcpu:,.0f}/s) vs Keycloak's "
            f"{KEYCLOAK_REFRESHES_PER_VCPU}/s per vCPU",
            "value": multiple,
            "cpu_value": multiple,
            "target": ">= 4",
            "met": multiple >= 4,
        }
    )
    return out


def table(results: list[dict], seconds: float, rounds: int) -> str:
    lines = [
        f"One connection per case, median of {rounds} rounds x {seconds:g} s; "
        "CPU = gunicorn master + worker (+ PostgreSQL) per operation.",
        "",
        "| database | case | req/s | µs/req | p50 ms | p99 ms | queries/op | CPU µs/op "
        "| ops/s per vCPU | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        for c in result["cases"]:
            flags = []
            if c["non2xx"] or c["socket_errors"]:
                flags.append(f"**{c['non2xx']} non-2xx, {c['socket_errors']} socket errors**")
            if c["exhausted"]:
                flags.append("**pool ran out: shorter run**")
            queries = "-".join(str(q) for q in c["queries"] if q >= 0) or "?"
            lines.append(
                f"| {result['database']} | {c['label']} | {c['rps']:,.0f} "
                f"| {c['us_per_request']:,.0f} | {c['p50_us'] / 1000:.2f} "
                f"| {c['p99_us'] / 1000:.2f} | {queries} | {c['cpu_us_per_op']:,.0f} "
                f"| {1e6 / c['cpu_us_per_op']:,.0f} | {'; '.join(flags) or '0'} |"
            )
    lines.append("")
    for result in results:
        for r in result["ratios"]:
            lines.append(
                f"{result['database']}: {r['what']}: {r['value']:.2f}x "
                f"(CPU {r['cpu_value']:.2f}x), target {r['target']}x: "
                f"{'met' if r['met'] else 'MISSED'}"
            )
    lines.append("")
    for result in results:
        c = result["concurrency"]
        lines.append(
            f"{result['database']}: concurrency, 2 workers, {CONCURRENCY} connections of "
            f"rotating refreshes: {c['rps']:,.0f} req/s, p99 {c['p99_us'] / 1000:.1f} ms, "
            f"CPU {c['cpu_us_per_op']:,.0f} µs/op, {c['non2xx']} non-2xx, "
            f"{c['socket_errors']} socket errors"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=int, default=4, help="per case and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    started = time.monotonic()
    vendors = [args.only] if args.only else ["sqlite", "postgres"]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_http_") as tmp:
        for vendor in vendors:
            results.append(bench_database(vendor, args, Path(tmp)))
            results[-1]["ratios"] = ratios(results[-1])
    report = table(results, args.seconds, args.rounds)
    print()
    print(report)
    record = {
        "machine": procs.machine(postgres_version() if "postgres" in vendors else None),
        "command": " ".join(sys.argv),
        "seconds": args.seconds,
        "rounds": args.rounds,
        "wall_seconds": round(time.monotonic() - started, 1),
        "results": results,
        "table": report,
    }
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"\n{out.relative_to(ROOT)}; {record['wall_seconds']:.0f} s")
    failed = [r["database"] for r in results if r["concurrency"]["non2xx"]]
    if failed:
        print(f"non-2xx responses in the concurrency run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
