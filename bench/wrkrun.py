"""Run wrk with one of the Lua scripts in bench/lua/ and read its summary line."""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "lua"


@dataclass
class Load:
    """What a case sends: a script in bench/lua/ and its arguments (after ``--``)."""

    script: str
    args: list[str]


def run(url: str, load: Load, *, seconds: float, connections: int = 1) -> dict:
    """wrk with one thread per connection (each connection's state lives in its
    thread's Lua); the summary that bench/lua/common.lua prints, as a dict."""
    command = [
        "wrk",
        f"-t{connections}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA / load.script),
        url,
        "--",
        *load.args,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk printed no summary ({done.returncode}):\n{done.stdout}{done.stderr}")
