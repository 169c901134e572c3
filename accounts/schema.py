"""The OpenAPI description of the account endpoints, built from tokens' error blocks."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from accounts import errors as account_errors
from accounts.serializers import ChangePasswordSerializer, RegisterSerializer, UserSerializer
from tokens.schema import (
    NOT_AUTHENTICATED,
    ORIGIN_NOT_ALLOWED,
    RATE_LIMITED,
    UNSUPPORTED_MEDIA_TYPE,
    bad_request,
)

register = extend_schema(
    summary="Create an account",
    request=RegisterSerializer,
    responses={
        201: UserSerializer,
        400: bad_request(account_errors.REGISTER_USER_ALREADY_EXISTS),
        403: ORIGIN_NOT_ALLOWED,
        415: UNSUPPORTED_MEDIA_TYPE,
        429: RATE_LIMITED,
    },
)

change_password = extend_schema(
    summary="Change the password; revokes every other session",
    request=ChangePasswordSerializer,
    responses={
        200: inline_serializer(
            "PasswordChanged",
            {"message": serializers.CharField(), "revoked": serializers.IntegerField()},
        ),
        400: bad_request(account_errors.CHANGE_PASSWORD_INVALID_CURRENT),
        401: NOT_AUTHENTICATED,
        415: UNSUPPORTED_MEDIA_TYPE,
        429: RATE_LIMITED,
    },
)

me = extend_schema(
    summary="The caller",
    responses={200: UserSerializer, 401: NOT_AUTHENTICATED},
)
