"""Service endpoints that belong to the project rather than to an app."""

from django.db import connection
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from authsite import schema
from tokens.errors import SERVICE_UNAVAILABLE, DatabaseUnavailable
from tokens.exceptions import DATABASE_UNAVAILABLE


@schema.health
class HealthView(APIView):
    """200 after a database round trip; 503 when the database cannot be reached."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DATABASE_UNAVAILABLE:
            return Response(
                {"status": "unavailable", "detail": SERVICE_UNAVAILABLE},
                status=503,
                headers={"Retry-After": str(DatabaseUnavailable.wait)},
            )
        return Response({"status": "ok"})
