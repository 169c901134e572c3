"""What each layer of a whole request costs: an authenticated GET /api/users/me and a
rotating refresh, called in-process through Django's WSGI handler.

    .venv/bin/python bench/profile_layers.py [--requests 1000] [--top 25]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/profile_layers.py

The project's production settings (authsite.settings: every middleware, DEBUG off)
with the rate limits raised (the limiter still runs, on Redis: REDIS_URL, default db 5
as bench/http_bench.py), on a temporary SQLite file, or with DATABASE_URL on a
PostgreSQL database ``bench_prof_<random>`` made on that server and dropped at the end.
Two passes per operation, after 100 warm-up requests:

- timers: each middleware, the URL resolver, DRF's request set-up, authentication,
  permissions, throttles, the view's own code, finalize and rendering, wrapped so that
  each layer's time excludes the layers it calls; wall and this process's CPU µs per
  request, medians of 5 runs (the CPU figure is the one other work on the machine
  does not inflate; the wall figure adds the waits for PostgreSQL and Redis);
- cProfile of the same requests: the functions with the most own time.

No HTTP server and no socket: what gunicorn adds is in bench/http_bench.py.
Not part of the test suite.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "profile passphrase 1"


class Layers:
    """Exclusive time per layer: a wrapped call's time minus that of the wrapped calls
    inside it; wall time (waits for PostgreSQL and Redis included) and this thread's
    CPU time (which the machine's other work does not inflate)."""

    def __init__(self):
        self.wall = defaultdict(float)
        self.cpu = defaultdict(float)
        self.stack = []  # [label, wall start, cpu start, wall in children, cpu in children]

    def wrap(self, label: str, function):
        def timed(*args, **kwargs):
            self.stack.append([label, time.perf_counter(), time.thread_time(), 0.0, 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                label_, wall0, cpu0, wall_children, cpu_children = self.stack.pop()
                wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
                self.wall[label_] += wall - wall_children
                self.cpu[label_] += cpu - cpu_children
                if self.stack:
                    self.stack[-1][3] += wall
                    self.stack[-1][4] += cpu

        return timed

    def patch(self, owner, name: str, label: str) -> None:
        setattr(owner, name, self.wrap(label, getattr(owner, name)))

    def clear(self) -> None:
        self.wall.clear()
        self.cpu.clear()


def instrument(handler, layers: Layers) -> None:
    """Wrap each middleware of ``handler`` and the layers below them."""
    from django.template.response import SimpleTemplateResponse
    from django.urls.resolvers import URLResolver
    from rest_framework.views import APIView

    node = handler._middleware_chain
    handler._middleware_chain = layers.wrap(label_of(node), node)
    while hasattr(node.__wrapped__, "get_response"):  # a middleware
        middleware = node.__wrapped__
        node = middleware.get_response
        middleware.get_response = layers.wrap(label_of(node), node)
    layers.patch(URLResolver, "resolve", "Django: URL resolver")
    layers.patch(APIView, "dispatch", "view: its own code (serializer, service)")
    layers.patch(APIView, "initialize_request", "DRF: request set-up, content negotiation")
    layers.patch(APIView, "perform_authentication", "authentication")
    layers.patch(APIView, "check_permissions", "DRF: permissions")
    layers.patch(APIView, "check_throttles", "DRF: throttles")
    layers.patch(APIView, "finalize_response", "DRF: finalize_response")
    layers.patch(SimpleTemplateResponse, "render", "DRF: render (JSON)")


def label_of(node) -> str:
    """A layer's name: its middleware's class, or (innermost) the handler's view call."""
    wrapped = node.__wrapped__
    if hasattr(wrapped, "get_response"):
        return f"middleware: {type(wrapped).__name__}"
    return "Django: resolve and call the view"


def environ(method: str, path: str, headers: dict) -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": "0",
    }
    env.update(headers)
    return env


class Client:
    """An authenticated GET with one bearer token, and a chain of refreshes."""

    def __init__(self, handler, issued):
        self.handler = handler
        self.bearer = f"Bearer {issued.access_token}"
        self.refresh_token = issued.refresh_token

    def call(self, env: dict) -> tuple[str, list]:
        seen = {}

        def start_response(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers

        body = self.handler(env, start_response)
        b"".join(body)
        body.close()
        if not seen["status"].startswith("200"):
            raise RuntimeError(f"{env['PATH_INFO']}: {seen['status']}")
        return seen["status"], seen["headers"]

    def get_me(self) -> None:
        self.call(environ("GET", "/api/users/me", {"HTTP_AUTHORIZATION": self.bearer}))

    def refresh(self) -> None:
        cookie = f"refresh_token={self.refresh_token}"
        _, headers = self.call(environ("POST", "/api/auth/refresh", {"HTTP_COOKIE": cookie}))
        cookies = [v.strip() for n, v in headers if n == "Set-Cookie"]
        new = [c.split(";", 1)[0].split("=", 1)[1] for c in cookies if c.startswith(cookie[:14])]
        if not new or new[0] == self.refresh_token:  # each request must rotate
            raise RuntimeError(f"refresh did not rotate: {cookies}")
        self.refresh_token = new[0]


WHOLE = "whole request"


def measure(operation, count: int, layers: Layers) -> dict[str, tuple[float, float]]:
    """Wall and CPU µs per request of each layer, and of the whole, over ``count``."""
    layers.clear()
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    for _ in range(count):
        operation()
    out = {WHOLE: ((time.perf_counter() - wall0) / count, (time.thread_time() - cpu0) / count)}
    for label in layers.wall:
        out[label] = (layers.wall[label] / count, layers.cpu[label] / count)
    return {label: (wall * 1e6, cpu * 1e6) for label, (wall, cpu) in out.items()}


def profile(operation, count: int, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        operation()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    # Cumulative, this project's code and the libraries' entry points it calls.
    stats.sort_stats("cumulative").print_stats(r"tokens/|authsite/|accounts/|rest_framework/", top)
    return out.getvalue()


def setup_database() -> tuple[str, object]:
    """DATABASE_URL for this run, and how to drop it."""
    admin = os.environ.get("DATABASE_URL")
    if not admin:
        path = Path(tempfile.mkdtemp(prefix="bench_prof_")) / "db.sqlite3"
        return f"sqlite:///{path}", lambda: None
    name = f"bench_prof_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    return admin.rsplit("/", 1)[0] + f"/{name}", drop


def configure(url: str) -> None:
    """The environment of an in-process run on the database at ``url``: the project's
    production settings, the limiter on Redis with its rates raised."""
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="authsite.settings",
        DEBUG="false",
        ALLOWED_HOSTS="testserver",
        SECRET_KEY=f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"),
        RATE_LIMIT_DEFAULT="100000000/m",
        RATE_LIMIT_LOGIN="100000000/m",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    url, drop = setup_database()
    configure(url)
    try:
        import django

        django.setup()
        import logging

        from django.contrib.auth import get_user_model
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.management import call_command
        from django.db import connection

        from tokens import services

        # The audit lines go to the console handler in production (gunicorn's log
        # file); here they would flood the terminal and time the terminal.
        logging.disable(logging.CRITICAL)
        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user(
            email=f"prof-{uuid.uuid4().hex[:6]}@bench.example", password=PASSWORD
        )
        handler = WSGIHandler()
        layers = Layers()
        instrument(handler, layers)
        client = Client(handler, services.start_session(user))
        print(f"database: {connection.vendor}; {args.requests} requests per run\n")
        for name, operation in (("GET /api/users/me", client.get_me), ("refresh", client.refresh)):
            measure(operation, 100, layers)  # warm-up
            runs = [measure(operation, args.requests, layers) for _ in range(args.runs)]
            report(name, runs)
            print(profile(operation, args.requests, args.top))
        connection.close()
    finally:
        drop()


def report(name: str, runs: list[dict]) -> None:
    """One Markdown table: each layer's median wall and CPU µs per request, and shares."""
    medians = {
        label: tuple(statistics.median(r.get(label, (0.0, 0.0))[i] for r in runs) for i in (0, 1))
        for label in runs[0]
    }
    whole_wall, whole_cpu = medians.pop(WHOLE)
    print(f"| {name} | wall µs | share | CPU µs | share |")
    print("|---|---:|---:|---:|---:|")
    print(f"| {WHOLE} | {whole_wall:,.0f} | 100% | {whole_cpu:,.0f} | 100% |")
    for label, (wall, cpu) in sorted(medians.items(), key=lambda item: -item[1][1]):
        print(
            f"| {label} | {wall:,.0f} | {wall / whole_wall:.0%} "
            f"| {cpu:,.0f} | {cpu / whole_cpu:.0%} |"
        )
    print()
    groups = defaultdict(lambda: [0.0, 0.0])
    for label, (wall, cpu) in medians.items():
        group = label.split(":")[0] if ":" in label else label
        if label == "DRF: throttles":
            group = "rate limit (DRF throttles)"
        groups[group][0] += wall
        groups[group][1] += cpu
    # Outside every wrapped layer: WSGIHandler (the request object, the response's
    # iteration and close, the request_started/finished signals) and this script's call.
    groups["WSGI handler, the rest"] = [
        whole_wall - sum(w for w, _ in medians.values()),
        whole_cpu - sum(c for _, c in medians.values()),
    ]
    print(f"| {name}, by layer | wall µs | share | CPU µs | share |")
    print("|---|---:|---:|---:|---:|")
    for group, (wall, cpu) in sorted(groups.items(), key=lambda item: -item[1][1]):
        print(
            f"| {group} | {wall:,.0f} | {wall / whole_wall:.0%} "
            f"| {cpu:,.0f} | {cpu / whole_cpu:.0%} |"
        )
    print()


if __name__ == "__main__":
    main()
