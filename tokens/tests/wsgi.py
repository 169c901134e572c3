"""The test project's WSGI application, for the live servers the tests start."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokens.tests.settings")

application = get_wsgi_application()
