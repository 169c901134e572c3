"""A URLconf with views that fail, to prove the API never answers with an HTML page."""

from django.urls import include, path


def broken_plain_view(request):
    raise RuntimeError("a bug in a plain Django view")


urlpatterns = [
    path("api/broken-plain", broken_plain_view),
    path("", include("authsite.urls")),
]
