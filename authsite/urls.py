from django.contrib import admin
from django.urls import include, path

from authsite.views import HealthView

urlpatterns = [
    path("api/auth/", include("tokens.urls")),
    path("api/", include("accounts.urls")),
    path("api/health", HealthView.as_view(), name="health"),
    path("admin/", admin.site.urls),
    path("", include("web.urls")),
]
