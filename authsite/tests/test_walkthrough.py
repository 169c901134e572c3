"""docs/walkthrough.md's "Using it with curl" is scripts/walkthrough, and the script works.

The page shows the script's commands; a test keeps the two identical (same curl
commands, in the same order, each with the status the script expects written in the
comment above it). The script then runs against a live gunicorn server with DEBUG off
and the default rate limits, so the 5-a-minute login limit is the real one.
"""

import re
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from authsite import testing
from tokens.tests import live

WALKTHROUGH = testing.ROOT / "scripts" / "walkthrough"
PAGE = testing.ROOT / "docs" / "walkthrough.md"
SECTION = "## Using it with curl"
# A step of the script: `expect STATUS curl ...`.
STEP = re.compile(r"^expect (\d{3}) (curl .*)$")
ASSIGNMENT = re.compile(r"^([A-Z_]+)=")


def normalized(command: str) -> str:
    return " ".join(command.split())


def page_block() -> list[str]:
    """The lines of the first ```sh block of the page's curl section."""
    text = PAGE.read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, f"docs/walkthrough.md: no ```sh block under {SECTION!r}"
    return block.group(1).splitlines()


def page_steps() -> list[tuple[str, str]]:
    """(the comment lines above it, the command) for each curl command of the page."""
    steps, comments, lines = [], [], iter(page_block())
    for line in lines:
        line = line.strip()
        if line.startswith("#"):
            comments.append(line)
        elif line.startswith("curl "):
            while line.endswith("\\"):
                line = line[:-1] + " " + next(lines).strip()
            steps.append((" ".join(comments), normalized(line)))
            comments = []
        elif line:
            comments = [] if not ASSIGNMENT.match(line) else comments
    return steps


def script_steps() -> list[tuple[str, str]]:
    """(expected status, command) for each step of scripts/walkthrough."""
    steps = []
    for line in WALKTHROUGH.read_text().splitlines():
        match = STEP.match(line.strip())
        if match:
            steps.append((match.group(1), normalized(match.group(2))))
    return steps


def test_the_page_shows_the_walkthroughs_commands_in_its_order():
    page = [command for _, command in page_steps()]
    script = [command for _, command in script_steps()]
    assert script, "scripts/walkthrough has no `expect STATUS curl ...` steps"
    assert page == script


def test_the_page_says_the_status_each_command_answers():
    for (comment, command), (status, _) in zip(page_steps(), script_steps(), strict=True):
        assert re.search(rf"\b{status}\b", comment), f"{PAGE.name}: say {status} above {command}"


def test_every_command_of_the_page_prints_the_status_it_promises():
    for _, command in page_steps():
        assert "-w ' %{http_code}\\n'" in command, f"{PAGE.name}: no status from {command}"


def test_every_variable_the_page_sets_is_the_scripts():
    script = WALKTHROUGH.read_text()
    for line in page_block():
        match = ASSIGNMENT.match(line.strip())
        if match:
            assert re.search(rf"^{match.group(1)}=", script, re.M), line


def test_scripts_walkthrough_is_executable():
    assert WALKTHROUGH.exists()
    assert WALKTHROUGH.stat().st_mode & 0o111


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn, DEBUG off, the default rate limits (base_env passes none on)."""
    workdir = tmp_path_factory.mktemp("walkthrough")
    databases = live.LiveDatabase.for_this_run(workdir, project=testing.AUTHSITE)
    try:
        server = testing.start_server(testing.base_env(DATABASE_URL=databases.url()), workdir)
        try:
            yield server
        finally:
            server.stop()
    finally:
        databases.drop_all()


def login_status(server) -> tuple[int, str | None]:
    request = urllib.request.Request(
        f"{server.url}/api/auth/login",
        data=b'{"email": "nobody@example.com", "password": "wrong"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


@pytest.mark.slow
def test_the_walkthrough_runs_against_a_live_server_within_the_login_limit(server):
    if shutil.which("curl") is None:
        testing.skip_or_fail("REQUIRE_CURL", "needs curl (scripts/walkthrough runs it)")
    result = subprocess.run(
        [str(WALKTHROUGH), server.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "every step answered as expected" in output, output
    assert "FAILED" not in output, output

    # The limit it stayed within is real: 5 a minute, so more logins from this address
    # meet a 429 with Retry-After: by the 6th, or by the 12th if a window turns between
    # them (a loaded machine), since one of the two windows then holds 6 of them.
    statuses = [login_status(server) for _ in range(12)]
    limited = [retry_after for status, retry_after in statuses if status == 429]
    assert limited, statuses
    assert all(int(retry_after) >= 1 for retry_after in limited), statuses


@pytest.mark.slow
def test_the_pages_commands_typed_by_hand_print_their_status(server):
    """The page's block as a person pastes it, up to the first command that needs an
    answer copied by hand: each command's output ends with the status it promises."""
    lines = page_block()
    end = next(i for i, line in enumerate(lines) if "/api/auth/register" in line)
    typed = [f"BASE={server.url}" if line.startswith("BASE=") else line for line in lines]
    result = subprocess.run(
        ["/bin/sh", "-c", "\n".join(typed[: end + 1])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    statuses = [line.rsplit(" ", 1)[-1] for line in result.stdout.splitlines()]
    assert statuses == ["200", "201"], result.stdout


def test_the_walkthrough_fails_loudly_when_a_status_is_not_the_expected_one(tmp_path):
    if shutil.which("curl") is None:
        testing.skip_or_fail("REQUIRE_CURL", "needs curl (scripts/walkthrough runs it)")
    # Nothing listens there: the first step fails, says why, and the status is 1.
    result = subprocess.run(
        [str(WALKTHROUGH), f"http://127.0.0.1:{testing.free_port()}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stderr
