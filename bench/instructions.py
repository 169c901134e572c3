"""What a rotating refresh does beyond the write floor, counted in instructions.

    .venv/bin/python bench/instructions.py [--requests 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/instructions.py

Timings on a shared 2-core machine swing by a third from one minute to the next; the
instructions a process executes do not. Each figure here is counted by valgrind's
callgrind in a process of its own, through Django's WSGI handler (no HTTP server, as
bench/profile_layers.py): (a run with N requests - a run with none) / N, after the same
warm-up. Only this process is counted: not PostgreSQL's or Redis's work, not the
kernel's (system calls), not the waits. The operations: a bare DRF view, the write floor
(one UPDATE in a bare DRF view), an authenticated GET, a rotating refresh, and the
refresh with one part taken out of it (replaced in that process only, after the
warm-up) to count what that part costs: the rate limiter, the access token, the audit
line, and the whole service call. None of those is a configuration to run.

The project's bench settings (bench/settings.py: every middleware, the limiter on
Redis with its rates raised), on a temporary SQLite file or, with DATABASE_URL, a
PostgreSQL database ``bench_instr_<random>`` made on that server and dropped at the end.
Needs valgrind. Not part of the test suite.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPERATIONS = ("floor", "write_floor", "get", "refresh")
# The refresh with one part taken out: (name, what it stands for).
WITHOUT = {
    "limiter": "the rate limiter (DRF throttle, one Redis command)",
    "access_token": "the access token (claims, HS256 signature)",
    "audit": "the audit line (signal, logging record, handler)",
    "service": "the service call (UPDATE ... RETURNING, the session and user built from "
    "the row, the MACs, the access token, the audit line)",
}
WARM_UP = 30
# What the refresh without its access token hands out instead.
NO_ACCESS_TOKEN = "-"


def child(operation: str, without: str, count: int) -> None:
    """Run in the process callgrind counts: set up, warm up, then ``count`` requests."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    django.setup()
    import logging

    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler

    from bench.profile_layers import PASSWORD, Client, environ
    from tokens import crypto, ratelimit, services, signals, views

    # The audit lines go through a real handler, to nowhere: production writes them to
    # gunicorn's log, and the terminal's cost is not the service's.
    handler = logging.FileHandler(os.devnull)
    security = logging.getLogger("security")
    security.handlers, security.propagate = [handler], False

    user = get_user_model().objects.create_user(
        email=f"instr-{uuid.uuid4().hex[:6]}@bench.example", password=PASSWORD
    )
    issued = services.start_session(user)
    client = Client(WSGIHandler(), issued)
    session_id = crypto.decode(issued.refresh_token).session_id
    operations = {
        "floor": lambda: client.call(environ("POST", "/bench/floor", {})),
        "write_floor": lambda: client.call(environ("POST", f"/bench/write-floor/{session_id}", {})),
        "get": client.get_me,
        "refresh": client.refresh,
    }
    for run in operations.values():
        for _ in range(WARM_UP):
            run()
    run = operations[operation]
    if without == "limiter":
        ratelimit.DefaultRate.allow_request = lambda self, request, view: True
    elif without == "access_token":

        def issue(session, now):
            return services.IssuedTokens(
                session=session,
                access_token=NO_ACCESS_TOKEN,
                expires_in=0,
                refresh_token=crypto.encode(session.id, session.generation),
                refresh_max_age=1,
            )

        services._issue = issue
    elif without == "audit":
        signals.session_rotated.receivers = []
        signals.session_rotated.sender_receivers_cache.clear()
    elif without == "service":
        fixed = services.refresh(client.refresh_token)
        views.services.refresh = lambda *args, **kwargs: fixed
        cookie = {"HTTP_COOKIE": f"refresh_token={fixed.refresh_token}"}

        def run():
            client.call(environ("POST", "/api/auth/refresh", cookie))

    for _ in range(count):
        run()


VALGRIND = shutil.which("valgrind") or "valgrind"


def counted(url: str, operation: str, without: str, count: int) -> int:
    """The instructions callgrind counted in a child process."""
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run(
            [
                VALGRIND,
                "--tool=callgrind",
                f"--callgrind-out-file={out}/callgrind.out",
                sys.executable,
                __file__,
                "--child",
                operation,
                without,
                str(count),
            ],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
        )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"{operation} without {without}: {result.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        operation, without, count = args.child
        child(operation, without, int(count))
        return
    from bench.profile_layers import configure, setup_database

    url, drop = setup_database()
    configure(url)
    try:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"},
            check=True,
        )
        jobs = [("refresh", "-", 0)]
        jobs += [(operation, "-", args.requests) for operation in OPERATIONS]
        jobs += [("refresh", without, args.requests) for without in WITHOUT]
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            totals = dict(zip(jobs, pool.map(lambda job: counted(url, *job), jobs), strict=True))
        report(url, totals, args.requests)
    finally:
        drop()


def report(url: str, totals: dict, count: int) -> None:
    base = totals[("refresh", "-", 0)]

    def per_request(operation: str, without: str = "-") -> int:
        return round((totals[(operation, without, count)] - base) / count)

    refresh = per_request("refresh")
    floor = per_request("write_floor")
    vendor = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"{vendor}, {count} requests per count; instructions per request (this process)\n")
    print("| operation | instructions | vs the write floor |")
    print("|---|---:|---:|")
    for operation, name in (
        ("floor", "bare DRF view (POST)"),
        ("write_floor", "write floor: one UPDATE in a bare DRF view"),
        ("get", "authenticated GET /api/users/me"),
        ("refresh", "rotating refresh"),
    ):
        value = per_request(operation)
        print(f"| {name} | {value:,} | {value / floor:.2f}x |")
    print()
    print(
        f"What the refresh's parts cost (the refresh minus the refresh without it; "
        f"{refresh - floor:,} beyond the write floor):\n"
    )
    print("| part | instructions | share of the refresh |")
    print("|---|---:|---:|")
    for without, name in WITHOUT.items():
        value = refresh - per_request("refresh", without)
        print(f"| {name} | {value:,} | {value / refresh:.0%} |")


if __name__ == "__main__":
    main()
