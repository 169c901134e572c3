"""Headless Chromium for the browser tests: where it is and how to start it.

The system's Chromium (Debian's ``chromium`` package), never Playwright's own download
(``playwright install`` needs the internet). Tests that need it carry the ``browser``
marker: without Chromium they skip, unless ``REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

import os
from pathlib import Path

from authsite.testing import skip_or_fail

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"needs Chromium at {CHROMIUM}: apt-get install chromium chromium-driver"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs Playwright for Python: pip install -r requirements-dev.txt"
    return None


def require_browser() -> None:
    """Skip the current test (fail it when REQUIRE_BROWSER=1) if Chromium cannot run."""
    reason = unavailable_reason()
    if reason is not None:
        skip_or_fail("REQUIRE_BROWSER", reason)
