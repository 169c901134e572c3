"""Per-operation cost of the token service beside the floor and simplejwt, in one process.

    .venv/bin/python bench/refresh.py [--iterations N]

Uses a throwaway test database (SQLite in memory by default; PostgreSQL when
DATABASE_URL points at one: a ``test_<name>`` database is created and dropped).
Prints microseconds per operation, the ratio to the floor (a bare DRF view), and SQL
statements per operation (transaction control not counted).
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django

django.setup()

from django.db import connection
from django.test.utils import (
    CaptureQueriesContext,
    setup_test_environment,
)
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings as simplejwt_settings
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken

from accounts.models import User

CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
PASSWORD = "benchmark passphrase 1"


def measure(name, iterations, prepare, operation):
    """Run operation(state) ``iterations`` times; prepare() gives each run its state."""
    timings, queries = [], []
    for _ in range(iterations):
        state = prepare()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = operation(state)
            elapsed = time.perf_counter() - start
        assert response.status_code < 300, (name, response.status_code, response.content)
        timings.append(elapsed)
        queries.append(sum(1 for q in captured.captured_queries if not CONTROL.match(q["sql"])))
    return name, statistics.median(timings) * 1e6, max(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=500)
    n = parser.parse_args().iterations

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        user = User.objects.create_user(email="bench@example.com", password=PASSWORD)
        client = APIClient()
        login = client.post(
            "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
        )
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {login.json()['access_token']}"}

        def rotate(_):
            return client.post("/api/auth/refresh")

        def simplejwt_refresh(token):
            return client.post("/bench/simplejwt/refresh", {"refresh": token}, format="json")

        rows = [
            measure(
                "floor: bare DRF view (POST)",
                n,
                lambda: None,
                lambda _: client.post("/bench/floor"),
            ),
            measure(
                "ours: authenticated GET /api/users/me",
                n,
                lambda: None,
                lambda _: client.get("/api/users/me", **bearer),
            ),
            measure(
                "simplejwt: authenticated GET, same view",
                n,
                lambda: None,
                lambda _: client.get("/bench/simplejwt/me", **bearer),
            ),
            measure("ours: refresh (rotating, row lock)", n, lambda: None, rotate),
            measure(
                "simplejwt: refresh, stateless (defaults)",
                n,
                lambda: str(SimpleRefreshToken.for_user(user)),
                simplejwt_refresh,
            ),
        ]
        # simplejwt rebinds its settings object on setting_changed, so override_settings
        # does not reach modules that imported it: set the two flags on that object.
        simplejwt_settings.ROTATE_REFRESH_TOKENS = True
        simplejwt_settings.BLACKLIST_AFTER_ROTATION = True
        rows.append(
            measure(
                "simplejwt: refresh, rotate + blacklist",
                n,
                lambda: str(SimpleRefreshToken.for_user(user)),
                simplejwt_refresh,
            )
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    floor = rows[0][1]
    print(f"database: {connection.vendor}; {n} iterations each; median per operation\n")
    print("| operation | µs/op | x floor | queries/op |\n|---|---:|---:|---:|")
    for name, micros, queries in rows:
        print(f"| {name} | {micros:,.0f} | {micros / floor:.2f} | {queries} |")


if __name__ == "__main__":
    main()
