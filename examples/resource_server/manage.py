#!/usr/bin/env python
"""The example resource server's manage.py (see resource_server/settings.py)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resource_server.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
