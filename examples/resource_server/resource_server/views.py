from rest_framework.response import Response
from rest_framework.views import APIView

from resource_server.introspection import IntrospectionAuthentication


class WhoAmIView(APIView):
    """Verified locally with the JWKS (the default authentication)."""

    def get(self, request):
        return Response({"user_id": request.user.id, "sid": request.auth["sid"], "via": "jwks"})


class IntrospectedWhoAmIView(APIView):
    """Checked by authsite's introspection on every request."""

    authentication_classes = [IntrospectionAuthentication]

    def get(self, request):
        return Response(
            {"user_id": request.user.id, "sid": request.user.session_id, "via": "introspection"}
        )
