import os

from django.core.wsgi import get_wsgi_application

from authsite.startup import refuse_misconfiguration

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authsite.settings")

application = get_wsgi_application()

# A server runs none of the system checks that manage.py runs: refuse to serve with a
# misconfiguration (authsite/startup.py).
refuse_misconfiguration()
