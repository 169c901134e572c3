"""The HTTP benchmark's summary and table: per-case medians, ratios as medians of
per-round ratios (cases of a round run back to back), and capacity per vCPU."""

import statistics

KEYCLOAK_REFRESHES_PER_VCPU = 120  # Keycloak's published sizing: refreshes/s per vCPU
CAPACITY_GOAL = 4  # issue 19: 4x Keycloak's figure

# (what, case, the cases it is compared with, target: "<= x", or None to inform)
RATIOS = [
    ("authenticated GET", "auth_get", ["sj_auth_get", "stock_auth_get"], 1.0),
    ("rotating refresh vs rotate + blacklist", "refresh", ["sj_refresh", "stock_refresh"], 0.3),
    ("rotating refresh vs the write floor", "refresh", ["write_floor"], 1.5),
    ("login (MD5) vs token obtain pair (MD5)", "login", ["sj_login", "stock_login"], 0.9),
    ("logout by cookie vs blacklist view", "logout", ["sj_logout", "stock_logout"], None),
    # What serving simplejwt inside this project costs it (our middleware, settings).
    ("in-project simplejwt GET vs stock", "sj_auth_get", ["stock_auth_get"], None),
    ("in-project simplejwt refresh vs stock", "sj_refresh", ["stock_refresh"], None),
]


def summary(case) -> dict:
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
        "redis_cpu_us_per_op": med("redis_cpu_us_per_op"),
        "queries": sorted({r["queries_min"] for r in rounds} | {r["queries_max"] for r in rounds}),
        "non2xx": sum(r["non2xx"] for r in rounds),
        "socket_errors": sum(r["socket_errors"] for r in rounds),
        "exhausted": any(r["exhausted_threads"] for r in rounds),
        "load_average": [r["load_average"][0] for r in rounds],
        "rounds": rounds,
    }


def per_round_median(a: dict, b: dict, key: str) -> tuple[float, list[float]]:
    """The median over rounds of a's figure / b's figure (µs per request from req/s)."""
    if key == "rps":
        values = [rb["rps"] / ra["rps"] for ra, rb in zip(a["rounds"], b["rounds"], strict=True)]
    else:
        values = [ra[key] / rb[key] for ra, rb in zip(a["rounds"], b["rounds"], strict=True)]
    return statistics.median(values), values


def ratios(result: dict) -> list[dict]:
    """Every ratio of one database, each against each case it is compared with."""
    by_key = {case["key"]: case for case in result["cases"]}
    out = []
    for what, key, againsts, target in RATIOS:
        for against in againsts:
            value, rounds = per_round_median(by_key[key], by_key[against], "rps")
            cpu, _ = per_round_median(by_key[key], by_key[against], "cpu_us_per_op")
            out.append(
                {
                    "what": f"{what}: {key} / {against}",
                    "value": value,
                    "rounds": rounds,
                    "cpu_value": cpu,
                    "target": target,
                    "met": None if target is None else value <= target,
                }
            )
    return out


def capacity(run: dict) -> dict:
    """Refreshes per second per vCPU: 1 s of CPU (gunicorn + PostgreSQL + Redis) over the
    CPU µs a refresh costs, against Keycloak's sizing and the goal of 4x it."""
    per_vcpu = 1e6 / run["cpu_us_per_op"]
    return {
        "refreshes_per_vcpu": per_vcpu,
        "vs_keycloak": per_vcpu / KEYCLOAK_REFRESHES_PER_VCPU,
        "goal": KEYCLOAK_REFRESHES_PER_VCPU * CAPACITY_GOAL,
        "met": per_vcpu >= KEYCLOAK_REFRESHES_PER_VCPU * CAPACITY_GOAL,
    }


def table(results: list[dict], seconds: float, rounds: int, concurrency: int) -> str:
    lines = [
        f"One connection per case, median of {rounds} rounds x {seconds:g} s; CPU = gunicorn "
        "master + worker, PostgreSQL, Redis, per operation; load = 1-min load average "
        "after each round's run.",
        "",
        "| database | case | req/s | µs/req | p50 ms | p99 ms | queries/op | CPU µs/op "
        "| ops/s per vCPU | load | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for result in results:
        for c in result["cases"]:
            flags = []
            if c["non2xx"] or c["socket_errors"]:
                flags.append(f"**{c['non2xx']} non-2xx, {c['socket_errors']} socket errors**")
            if c["exhausted"]:
                flags.append("**pool ran out: shorter run**")
            queries = "-".join(str(q) for q in c["queries"] if q >= 0) or "n/a"
            load = f"{min(c['load_average']):.1f}-{max(c['load_average']):.1f}"
            lines.append(
                f"| {result['database']} | {c['label']} | {c['rps']:,.0f} "
                f"| {c['us_per_request']:,.0f} | {c['p50_us'] / 1000:.2f} "
                f"| {c['p99_us'] / 1000:.2f} | {queries} | {c['cpu_us_per_op']:,.0f} "
                f"| {1e6 / c['cpu_us_per_op']:,.0f} | {load} | {'; '.join(flags) or '0'} |"
            )
    lines += [
        "",
        "Ratios of µs per request, each the median of the per-round ratios (CPU ratio beside):",
        "",
        "| database | ratio | value | rounds | CPU | target |",
        "|---|---|---:|---|---:|---|",
    ]
    for result in results:
        for r in result["ratios"]:
            verdict = "" if r["target"] is None else f"<= {r['target']}: "
            verdict += {None: "(no target)", True: "met", False: "**missed**"}[r["met"]]
            spread = f"{min(r['rounds']):.2f}-{max(r['rounds']):.2f}"
            lines.append(
                f"| {result['database']} | {r['what']} | {r['value']:.2f}x | {spread} "
                f"| {r['cpu_value']:.2f}x | {verdict} |"
            )
    lines.append("")
    for result in results:
        c = result["concurrency"]
        cap = c["capacity"]
        lines.append(
            f"{result['database']}: concurrency, {c['workers']} {c['worker_class']} workers, "
            f"{concurrency} connections of rotating refreshes: {c['rps']:,.0f} req/s, "
            f"p99 {c['p99_us'] / 1000:.1f} ms, CPU {c['cpu_us_per_op']:,.0f} µs/op "
            f"(Redis {c['redis_cpu_us_per_op']:,.0f}), {c['non2xx']} non-2xx, "
            f"{c['socket_errors']} socket errors, load {c['load_average'][0]:.1f}; "
            f"{cap['refreshes_per_vcpu']:,.0f} refreshes/s per vCPU = "
            f"{cap['vs_keycloak']:.2f}x Keycloak's {KEYCLOAK_REFRESHES_PER_VCPU} "
            f"(goal {cap['goal']}: {'met' if cap['met'] else 'missed'})"
        )
    return "\n".join(lines)
