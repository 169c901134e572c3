"""Node and the npm packages of package-lock.json here, for the interoperability tests
(and of examples/typescript-client, for the typed client's check).

The first test that needs them runs ``npm ci`` in the folder (``node_modules`` is
git-ignored), once per version of the lockfile, with npm's own cache: a clean clone (CI)
needs only Node and the registry. Without Node the tests skip, or fail when
``REQUIRE_NODE=1`` (CI sets it).
"""

import fcntl
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from authsite.testing import skip_or_fail

INTEROP = Path(__file__).resolve().parent
# In a folder's node_modules, the lockfile's digest once `npm ci` has installed it: a
# changed lockfile installs again.
STAMP = Path("node_modules") / ".installed-lockfile-sha256"
CLIENTS = INTEROP / "clients.mjs"
INSTALL_SECONDS = 300
RUN_SECONDS = 60


def require_node(folder: Path = INTEROP) -> None:
    """Skip the calling test without Node and npm (fail it when REQUIRE_NODE=1), and
    install the packages of ``folder``'s lockfile if they are not installed yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        skip_or_fail("REQUIRE_NODE", "needs Node 20 and npm (Debian's nodejs and npm)")
    lockfile, stamp = folder / "package-lock.json", folder / STAMP
    digest = hashlib.sha256(lockfile.read_bytes()).hexdigest()
    # One installer at a time (two test runs of one checkout): the others wait on a
    # lock of the lockfile, then find the stamp.
    with lockfile.open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == digest:
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )
        if result.returncode != 0:
            skip_or_fail("REQUIRE_NODE", f"could not install its npm packages:\n{result.stderr}")
        stamp.write_text(digest)


def run(command: str, **request) -> dict:
    """Run one command of clients.mjs; its answer, ``{"ok": ..., "result" | "error": ...}``."""
    result = subprocess.run(
        [shutil.which("node") or "node", str(CLIENTS), json.dumps({"command": command, **request})],
        cwd=INTEROP,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"node clients.mjs {command} failed:\n{result.stderr}")
    return json.loads(result.stdout)
