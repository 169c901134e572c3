"""The project's URLs plus the floor and simplejwt's refresh, served in the same process."""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.views import TokenRefreshView

from accounts.serializers import UserSerializer


class FloorView(APIView):
    """A bare DRF view: the cost of the framework alone."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        return Response({"ok": True})


class SimpleJWTMeView(APIView):
    """GET /api/users/me as plain simplejwt would serve it: no session check."""

    authentication_classes = [JWTAuthentication]

    def get(self, request):
        return Response(UserSerializer(request.user).data)


urlpatterns = [
    path("bench/simplejwt/me", SimpleJWTMeView.as_view()),
    path("bench/floor", FloorView.as_view()),
    path("bench/simplejwt/refresh", TokenRefreshView.as_view()),
    path("", include("authsite.urls")),
]
