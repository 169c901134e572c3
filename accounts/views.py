"""Register, the current user, and password change."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import schema, services
from accounts.serializers import ChangePasswordSerializer, RegisterSerializer, UserSerializer
from tokens import known_devices
from tokens.authentication import session_id_of
from tokens.permissions import RequestOrigin
from tokens.ratelimit import PasswordCheckRate, SensitiveRate


@schema.register
class RegisterView(APIView):
    authentication_classes = []
    # Before the throttle (DRF's order): a refused origin spends no budget.
    permission_classes = [RequestOrigin]
    throttle_classes = [SensitiveRate]

    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


@schema.me
class MeView(APIView):
    def get(self, request):
        return Response(UserSerializer(request.user).data)


@schema.change_password
class ChangePasswordView(APIView):
    throttle_classes = [PasswordCheckRate]

    def post(self, request):
        serializer = ChangePasswordSerializer(data=request.data, context={"user": request.user})
        serializer.is_valid(raise_exception=True)
        revoked = services.change_password(
            request.user,
            current_password=serializer.validated_data["current_password"],
            new_password=serializer.validated_data["new_password"],
            current_session_id=session_id_of(request),
        )
        response = Response({"message": "Password changed", "revoked": revoked})
        # The new password voids every device cookie, the caller's too: the caller has
        # just proved the password, so its client stays a known device (and keeps its
        # own budget while the thief, now an unknown client, hammers the account).
        known_devices.remember(response, request.user)
        return response
