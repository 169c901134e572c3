"""The app's URLs at the site's root (RFC 8615), outside the ``api/auth/`` prefix:
``path("", include("tokens.well_known_urls"))``."""

from django.urls import path

from tokens import views

urlpatterns = [
    path(".well-known/jwks.json", views.JwksView.as_view(), name="jwks"),
]
