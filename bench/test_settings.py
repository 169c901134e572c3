"""The benchmark's settings take effect where the app reads them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_settings_raise_the_rate_limits_the_app_reads():
    # A rate set outside TOKENS is ignored (tokens.W002): every measured request
    # would then be a 429 after the fifth login of the minute.
    code = (
        "import django; django.setup()\n"
        "from tokens.settings import tokens_settings\n"
        "print(tokens_settings.RATE_LIMIT_LOGIN, tokens_settings.RATE_LIMIT_DEFAULT)\n"
    )
    env = {"DJANGO_SETTINGS_MODULE": "bench.settings", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["100000000/m", "100000000/m"]
    checks = subprocess.run(
        [sys.executable, "manage.py", "check", "--settings", "bench.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "tokens.W002" not in checks.stdout + checks.stderr
