"""Dual-token sessions for Django REST Framework (the drf-session-tokens distribution)."""

# The one place the version is written: pyproject.toml reads it from here.
__version__ = "0.1.0"
