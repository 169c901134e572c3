"""CPU time of the processes a benchmark case runs on, and the machine's description."""

import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

# A client backend's title: "postgres: [cluster: ]user database host(port) state".
BACKEND = re.compile(r"^postgres: (?:\S+: )?\S+ (?P<database>\S+) (?:\S+\(\d+\)|\[local\]) ")
TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat from ``state`` on (the command name may hold spaces)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_us(pid: int) -> float:
    """utime + stime of a process (all its threads), in µs; 0 if it is gone."""
    try:
        fields = stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) * TICK_US  # stat fields 14 and 15


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn's workers)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def tree_cpu_us(pid: int) -> float:
    """A process and its live children (a gunicorn master and its workers)."""
    return cpu_us(pid) + sum(cpu_us(child) for child in children(pid))


def postgres_pids(*databases: str) -> list[int]:
    """Every PostgreSQL server process except the backends of other databases.

    Backends name their database in their title (``postgres: user db host ...``); the
    postmaster, WAL writer, checkpointer and other helpers are all counted: the
    machine's PostgreSQL may be shared with other work, whose backends are not ours.
    """
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        backend = BACKEND.match(title)
        if backend is None or backend["database"] in databases:
            pids.append(int(entry.name))
    return pids


def redis_pids() -> list[int]:
    """The redis-server processes (the rate limiter's, shared with other work)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "redis-server":
                pids.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return pids


def load_average() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages (other work shares the cores)."""
    return [round(x, 2) for x in os.getloadavg()]


def machine(postgres_version: str | None) -> dict:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor(),
    )
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    import django
    import gunicorn

    wrk = subprocess.run(
        [shutil.which("wrk") or "wrk", "--version"], capture_output=True, text=True, check=False
    )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(int(meminfo[1]) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "django": django.__version__,
        "gunicorn": gunicorn.__version__,
        "postgresql": postgres_version,
        "sqlite": sqlite3.sqlite_version,
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].strip(),
    }
