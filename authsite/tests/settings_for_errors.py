"""The project's settings with a URLconf that has views that fail (for live servers)."""

from authsite.settings import *  # noqa: F403

ROOT_URLCONF = "authsite.tests.urls_for_errors"
