"""The bundled web page at ``/``: one template, one script, one stylesheet, an icon.

The page is a plain client of the API (see static/web/app.js); nothing here knows
about tokens. Its script and stylesheet are served by :func:`asset` rather than by
``django.contrib.staticfiles``, because runserver serves static files only with DEBUG
on and gunicorn never does; WhiteNoise would be a new runtime dependency for three small
files. Serving them from a view works the same under runserver and gunicorn, DEBUG on
or off. They stay in ``static/web/`` so that ``collectstatic`` still picks them up for a
deployment that prefers a web server in front.
"""

from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.static import serve

ASSET_DIR = Path(__file__).resolve().parent / "static" / "web"
ASSETS = frozenset({"app.js", "app.css", "icon.svg"})

# Everything from our own origin only, no inline script or style (the script is a
# separate file for that reason), no plugins, no framing, and Trusted Types with no
# policy: the script cannot write HTML into the page at all, only text.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The page, with its Content-Security-Policy (set here: the API needs none)."""
    response = render(request, "web/index.html")
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def asset(request: HttpRequest, name: str) -> HttpResponse:
    """The page's script, stylesheet or icon; any other name is a 404."""
    if name not in ASSETS:
        raise Http404(name)
    response = serve(request, name, document_root=ASSET_DIR)
    # Revalidate each time (a cheap 304 via Last-Modified): no stale script after a deploy.
    response["Cache-Control"] = "no-cache"
    return response
