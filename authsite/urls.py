from pathlib import Path

import drf_spectacular_sidecar
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView

from authsite.docs import DocsView
from authsite.views import HealthView

# The docs page's Swagger UI files, from the installed drf-spectacular-sidecar package:
# served here so /api/docs/ works under gunicorn with DEBUG off too (no CDN, and no
# collectstatic needed for it). Only that package's directory is reachable.
_SIDECAR = "drf_spectacular_sidecar"
_SIDECAR_ROOT = Path(drf_spectacular_sidecar.__file__).resolve().parent / "static" / _SIDECAR

urlpatterns = [
    path("api/auth/", include("tokens.urls")),
    path("api/", include("accounts.urls")),
    path("api/health", HealthView.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="docs"),
    re_path(
        rf"^{settings.STATIC_URL.lstrip('/')}{_SIDECAR}/(?P<path>.+)$",
        serve,
        {"document_root": _SIDECAR_ROOT},
    ),
    path("admin/", admin.site.urls),
    path("", include("tokens.well_known_urls")),  # the JWKS
    path("", include("web.urls")),
]
