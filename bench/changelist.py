"""Child process of bench/ops.py: time the sessions changelist against DATABASE_URL.

Prints one JSON line: median seconds of a GET /admin/tokens/refreshtoken/ as a
superuser (after warm-up), the number of queries of one GET, and the row count.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authsite.settings")

import django

django.setup()

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tokens.models import RefreshToken

URL = "/admin/tokens/refreshtoken/"
RUNS = int(os.environ.get("BENCH_RUNS", "15"))


def main() -> None:
    admin = User.objects.filter(email="bench-admin@example.com").first()
    if admin is None:
        admin = User.objects.create_superuser("bench-admin@example.com", None)
    client = Client()
    client.force_login(admin)
    for _ in range(3):  # warm-up: caches, templates, connection
        assert client.get(URL).status_code == 200
    seconds = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(URL)
        seconds.append(time.perf_counter() - start)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get(URL)
    rows = RefreshToken.objects.count()
    print(
        json.dumps(
            {
                "seconds": statistics.median(seconds),
                "queries": len(ctx.captured_queries),
                "rows": rows,
                "sql": [q["sql"][:160] for q in ctx.captured_queries],
            }
        )
    )


if __name__ == "__main__":
    main()
