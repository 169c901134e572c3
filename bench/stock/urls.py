"""startproject's admin, simplejwt's views as its README routes them, and a me view."""

from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)


class MeSerializer(serializers.ModelSerializer):
    """The five fields our GET /api/users/me returns."""

    class Meta:
        model = User
        fields = ["id", "email", "is_active", "is_superuser", "date_joined"]


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(MeSerializer(request.user).data)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/token/", TokenObtainPairView.as_view()),
    path("api/token/refresh/", TokenRefreshView.as_view()),
    path("api/token/blacklist/", TokenBlacklistView.as_view()),
    path("api/users/me", MeView.as_view()),
]
