"""WSGI config of the stock project (startproject's)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.stock.settings")

application = get_wsgi_application()
