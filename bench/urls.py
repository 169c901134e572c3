"""The project's URLs plus the floors: a bare DRF view, and one single-row UPDATE."""

from django.db import connection
from django.urls import include, path
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tokens.models import RefreshToken

SESSION_ID = RefreshToken._meta.pk  # UUIDs as the database stores them (hex on SQLite)


class FloorView(APIView):
    """A bare DRF view: the cost of the framework alone."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


class WriteFloorView(APIView):
    """One single-row UPDATE in autocommit: the least a refresh must write."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request, session_id):
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tokens_refreshtoken SET last_used_at = %s WHERE id = %s",
                [timezone.now(), SESSION_ID.get_db_prep_value(session_id, connection)],
            )
        return Response({"ok": True})


urlpatterns = [
    path("bench/floor", FloorView.as_view()),
    path("bench/write-floor/<uuid:session_id>", WriteFloorView.as_view()),
    path("", include("authsite.urls")),
]
