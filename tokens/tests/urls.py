"""The test project's URLs: the app where the docs mount it, and a view of the
project's own behind the app's authentication."""

from django.contrib import admin
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class MeView(APIView):
    """The project's own endpoint behind the tokens app's authentication."""

    def get(self, request):
        return Response({"id": request.user.pk, "username": request.user.get_username()})


urlpatterns = [
    path("api/auth/", include("tokens.urls")),
    path("api/users/me", MeView.as_view()),
    path("admin/", admin.site.urls),
    path("", include("tokens.well_known_urls")),
]
