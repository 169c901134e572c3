"""Per-operation cost over HTTP: our service beside the floors, simplejwt served inside
this project, and simplejwt in a stock project (bench/stock/).

    .venv/bin/python bench/http_bench.py [--only sqlite|postgres] [--seconds 3] [--rounds 5]
        [--worker-class sync|gthread] [--threads N] [--concurrency-only]

For each database kind it makes two databases (temporary SQLite files; throwaway
PostgreSQL databases ``bench_http_<random>_ours`` and ``_stock`` on 127.0.0.1, dropped
at the end): ours (this project plus simplejwt's blacklist app) and the stock
project's (auth.User). It migrates both, starts gunicorn with authsite/gunicorn.conf.py
for every server (one worker each; DEBUG off; Redis db 5 for our rate-limit counters;
``--worker-class`` and ``--threads`` for all servers alike), seeds users and sessions
before each round, and drives each case with wrk and a Lua script of bench/lua/ for
``--seconds`` over one connection. Rounds run the cases back to back (ours A,
simplejwt A, stock A, ours B, ...); the table shows medians, and each ratio is the
median of the per-round ratios. CPU per operation counts the gunicorn master and
worker, every PostgreSQL process (but other databases' backends) and redis-server.
Then a concurrency run: 2 workers, 16 connections of rotating refreshes, which must see
no non-2xx response; its CPU gives refreshes per vCPU. Writes
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
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from authsite.testing import AUTHSITE, GUNICORN_CONF, Server
from bench import procs, report, wrkrun
from bench.cases import PASSWORD, SESSIONS_PER_USER, Case, cases
from bench.wrkrun import Load
from tokens.tests.live import Project

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/5"
CONCURRENCY = 16
# The warm-up round (1 s per case, not reported) sizes its pools for these rates
# (requests/s); each later round for 1.5x the rate measured in the round before. A pool
# that runs out stops wrk early (marked in the table).
WARM_UP_RATES = {"logout": 1000, "logout_all": 400}
WARM_UP_SECONDS = 1

# The stock project: startproject's settings around simplejwt (bench/stock/), served by
# the same gunicorn configuration as ours.
STOCK = Project(
    settings="bench.stock.settings",
    wsgi="bench.stock.wsgi:application",
    cwd=ROOT,
    manage_command=(sys.executable, "-m", "django"),
    ready_path="/admin/login/",
    own_variables=frozenset({"DATABASE_URL", "SECRET_KEY", "DEBUG", "BENCH_PASSWORD_HASHER"}),
    gunicorn_config=GUNICORN_CONF,
)
PROJECTS = {"ours": AUTHSITE, "stock": STOCK}

# Servers of one database kind: name -> (project, settings module, extra environment).
SERVERS = {
    "ours": ("ours", "bench.settings", {}),
    "ours_norotate": ("ours", "bench.settings", {"REFRESH_TOKEN_ROTATE": "false"}),
    "ours_argon2": ("ours", "bench.settings", {"BENCH_PASSWORD_HASHER": "argon2"}),
    "sj": ("ours", "bench.simplejwt_settings", {}),
    "sj_argon2": ("ours", "bench.simplejwt_settings", {"BENCH_PASSWORD_HASHER": "argon2"}),
    "stock": ("stock", "bench.stock.settings", {}),
}


# Databases -----------------------------------------------------------------------------


class Database:
    """A database of its own for one project: a temporary SQLite file, or PostgreSQL's
    ``bench_http_<random>_<project>``; ``drop()`` removes it."""

    def __init__(self, vendor: str, workdir: Path, project: str, tag: str):
        self.vendor = vendor
        if vendor == "sqlite":
            self.name = str(workdir / f"bench-{project}.sqlite3")
            self.url = f"sqlite:///{self.name}"
        else:
            self.name = f"bench_http_{tag}_{project}"
            self.url = f"postgres://postgres@127.0.0.1:5432/{self.name}"
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    @staticmethod
    def _admin(statement) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(statement)

    def drop(self) -> None:
        if self.vendor == "postgres":
            self._admin(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )


def postgres_version() -> str:
    with psycopg.connect(PG_ADMIN) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


# One database kind's run ---------------------------------------------------------------


class Run:
    """One database kind: a database per project, their environments, the CPU to count."""

    def __init__(self, vendor: str, workdir: Path, args):
        self.vendor, self.workdir = vendor, workdir
        tag = uuid.uuid4().hex[:8]
        self.databases = {}
        for project in PROJECTS:
            self.databases[project] = Database(vendor, workdir, project, tag)
        # Every server gets the same gunicorn command line; GUNICORN_CMD_ARGS sits between
        # the configuration file and that command line.
        gunicorn = []
        if args.worker_class:
            gunicorn += ["--worker-class", args.worker_class]
        if args.threads:
            gunicorn += ["--threads", str(args.threads)]
        secret = f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}"
        self.envs = {
            project: PROJECTS[project].base_env(
                DATABASE_URL=database.url,
                REDIS_URL=REDIS_URL,
                SECRET_KEY=secret,
                GUNICORN_CMD_ARGS=" ".join(gunicorn),
            )
            for project, database in self.databases.items()
        }

    def migrate(self) -> None:
        ours = {**self.envs["ours"], "DJANGO_SETTINGS_MODULE": "bench.simplejwt_settings"}
        PROJECTS["ours"].manage(ours, "migrate", "-v0")
        PROJECTS["stock"].manage(self.envs["stock"], "migrate", "-v0")

    def start(self, name: str, workers: int = 1) -> Server:
        project, settings, extra = SERVERS[name]
        env = {**self.envs[project], "DJANGO_SETTINGS_MODULE": settings, **extra}
        return PROJECTS[project].start_server(env, self.workdir, workers=workers)

    def cpu_pids(self) -> list[int]:
        """PostgreSQL's processes of both databases (one server runs at a time) and Redis."""
        names = [d.name for d in self.databases.values()]
        pg = procs.postgres_pids(*names) if self.vendor == "postgres" else []
        return [*pg, *procs.redis_pids()]

    def drop(self) -> None:
        for database in self.databases.values():
            database.drop()


def run_seeder(script: str, env: dict, spec: dict) -> dict:
    done = subprocess.run(
        [sys.executable, script, json.dumps(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def seed(run: Run, prefix: str, sizes: dict) -> tuple[dict, dict]:
    """Seed one round's users and sessions; the tokens, and the pool files for Lua."""
    spec = {
        "prefix": prefix,
        "password": PASSWORD,
        "chains": CONCURRENCY,
        "sessions_per_user": SESSIONS_PER_USER,
        "login_users": 200,
        **sizes,
    }
    ours = {**run.envs["ours"], "DJANGO_SETTINGS_MODULE": "bench.simplejwt_settings"}
    seeded = run_seeder("bench/seed.py", ours, spec)
    seeded |= run_seeder("bench/stock/seed.py", run.envs["stock"], spec)
    files = {}
    for key, value in seeded.items():
        if isinstance(value, list):
            files[key] = run.workdir / f"{prefix}{key}.txt"
            files[key].write_text("\n".join(value) + "\n")
    return seeded, files


def cpu_snapshot(server: Server, run: Run) -> tuple[dict[int, float], dict[int, float]]:
    """CPU µs of the server and its database, and of Redis, by pid."""
    pids = [server.process.pid, *procs.children(server.process.pid), *run.cpu_pids()]
    redis = set(procs.redis_pids())
    cpu = {pid: procs.cpu_us(pid) for pid in pids}
    return cpu, {pid: us for pid, us in cpu.items() if pid in redis}


def measure(server: Server, run: Run, load: Load, seconds: float, conns=1) -> dict:
    """One wrk run, with the CPU its server, PostgreSQL and Redis spent during it."""
    before, _ = cpu_snapshot(server, run)
    result = wrkrun.run(server.url, load, seconds=seconds, connections=conns)
    after, redis = cpu_snapshot(server, run)
    spent = {pid: us - before.get(pid, 0.0) for pid, us in after.items()}
    requests = max(result["requests"], 1)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["cpu_us_per_op"] = sum(spent.values()) / requests
    result["redis_cpu_us_per_op"] = sum(spent[pid] for pid in redis) / requests
    result["load_average"] = procs.load_average()
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
    """Every case on one database kind, round after round; then the concurrency run."""
    run = Run(vendor, workdir, args)
    servers: dict[str, Server] = {}
    try:
        run.migrate()
        all_cases = [] if args.concurrency_only else cases()
        for name in {case.server for case in all_cases}:
            servers[name] = run.start(name)
        # Round 0 warms every server and view up (imports, caches, connections); it
        # sizes the pools of round 1 and is not reported.
        for number in range(args.rounds + 1 if all_cases else 0):
            seconds = args.seconds if number else WARM_UP_SECONDS
            start = time.monotonic()
            seeded, files = seed(run, f"r{number}-", pool_sizes(all_cases, seconds))
            print(f"{vendor} round {number}: seeded in {time.monotonic() - start:.1f} s")
            for case in all_cases:
                result = measure(servers[case.server], run, case.load(files, seeded), seconds)
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
        concurrency = concurrency_run(run, args)
        return {
            "database": vendor,
            "cases": [report.summary(case) for case in all_cases],
            "concurrency": concurrency,
        }
    finally:
        for server in servers.values():
            server.stop()
        run.drop()


def concurrency_run(run: Run, args) -> dict:
    """Rotating refreshes on ``--concurrency-workers`` (2) workers from 16 connections,
    each chaining its own session."""
    server = run.start("ours", workers=args.concurrency_workers)
    try:
        # A warm-up on one connection of its own seeded chains (not reported), then the
        # run on fresh ones.
        _, files = seed(run, "conc-warm-", {"logout": 1, "logout_all": 1})
        warm = Load("chain.lua", [str(files["ours_chain"]), "1", "cookie", "/api/auth/refresh"])
        wrkrun.run(server.url, warm, seconds=WARM_UP_SECONDS, connections=1)
        _, files = seed(run, "conc-", {"logout": 1, "logout_all": 1})
        load = Load(
            "chain.lua", [str(files["ours_chain"]), str(CONCURRENCY), "cookie", "/api/auth/refresh"]
        )
        result = measure(server, run, load, args.seconds, CONCURRENCY)
    finally:
        server.stop()
    result["workers"] = args.concurrency_workers
    result["worker_class"] = args.worker_class or "sync"
    result["threads"] = args.threads or 1
    result["capacity"] = report.capacity(result)
    result["errors_log"] = server.errors()[-2000:] if result["non2xx"] else ""
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=int, default=3, help="per case and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--worker-class", help="gunicorn's, for every server (default: the config's)"
    )
    parser.add_argument("--threads", type=int, help="gunicorn's --threads, for every server")
    parser.add_argument("--concurrency-workers", type=int, default=2)
    parser.add_argument(
        "--concurrency-only", action="store_true", help="only the concurrency run (no table)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    started = time.monotonic()
    load_before = procs.load_average()
    vendors = [args.only] if args.only else ["sqlite", "postgres"]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_http_") as tmp:
        for vendor in vendors:
            results.append(bench_database(vendor, args, Path(tmp)))
            results[-1]["ratios"] = report.ratios(results[-1]) if results[-1]["cases"] else []
    load_after = procs.load_average()
    table = report.table(results, args.seconds, args.rounds, CONCURRENCY)
    table += f"\n\nLoad average (1, 5, 15 min) before the run {load_before}, after {load_after}."
    print()
    print(table)
    record = {
        "machine": procs.machine(postgres_version() if "postgres" in vendors else None),
        "command": " ".join(sys.argv),
        "seconds": args.seconds,
        "rounds": args.rounds,
        "wall_seconds": round(time.monotonic() - started, 1),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "results": results,
        "table": table,
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
