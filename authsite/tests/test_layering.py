"""The tokens app never imports the project around it: ruff's banned-api rule
(tokens/ruff.toml) refuses it, and this test runs that rule in CI."""

import subprocess
import sys

from authsite.testing import ROOT

RUFF = [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "TID251"]


def ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*RUFF, *args], cwd=ROOT, input=stdin, capture_output=True, text=True, check=False
    )


def test_tokens_imports_nothing_of_the_project():
    result = ruff("tokens")
    assert result.returncode == 0, result.stdout


def test_an_import_of_the_project_in_tokens_is_refused():
    for line in ("from authsite import env", "import accounts.models", "from conftest import x"):
        result = ruff("--stdin-filename", "tokens/tests/probe.py", "-", stdin=line + "\n")
        assert result.returncode == 1, result.stdout
        assert "TID251" in result.stdout


def test_the_project_may_import_tokens():
    result = ruff("--stdin-filename", "accounts/probe.py", "-", stdin="from tokens import errors\n")
    assert result.returncode == 0, result.stdout
