import os

from django.core.asgi import get_asgi_application

from authsite.startup import refuse_misconfiguration

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authsite.settings")

application = get_asgi_application()

# A server runs none of the system checks that manage.py runs: refuse to serve with a
# misconfiguration (authsite/startup.py).
refuse_misconfiguration()
