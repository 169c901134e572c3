"""Start-up refuses a misconfiguration, under gunicorn as under ``manage.py``.

``manage.py`` runs Django's system checks before ``migrate`` or ``runserver``; a WSGI or
ASGI server does not. The tokens app checks its settings there (a contradictory cookie,
a signing key that does not fit its algorithm: tokens/checks.py), so the application
runs the same checks as it loads and refuses to serve with an error among them.
"""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_misconfiguration() -> None:
    """Raise ImproperlyConfigured naming every error the system checks find."""
    errors = [
        message
        for message in checks.run_checks()
        if message.is_serious() and not message.is_silenced()
    ]
    if errors:
        raise ImproperlyConfigured("\n".join(str(error) for error in errors))
