"""The token endpoints as stock simplejwt (rotate + blacklist) serves them."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from accounts.serializers import UserSerializer


class MeView(APIView):
    """GET /api/users/me with simplejwt's JWTAuthentication: no session check."""

    def get(self, request):
        return Response(UserSerializer(request.user).data)


class LogoutAllView(APIView):
    """simplejwt has no logout-all: blacklist every outstanding token of the caller.

    Its access tokens keep working until they expire (nothing ties them to a session).
    """

    def post(self, request):
        tokens = OutstandingToken.objects.filter(user=request.user, blacklistedtoken=None)
        created = BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in tokens], ignore_conflicts=True
        )
        return Response({"revoked": len(created)})


urlpatterns = [
    path("sj/login", TokenObtainPairView.as_view()),
    path("sj/refresh", TokenRefreshView.as_view()),
    path("sj/logout", TokenBlacklistView.as_view()),
    path("sj/logout-all", LogoutAllView.as_view()),
    path("sj/me", MeView.as_view()),
    path("", include("bench.urls")),
]
