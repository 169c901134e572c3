"""Input and output shapes of the token views."""

from rest_framework import serializers

from tokens.models import RefreshToken


class LoginSerializer(serializers.Serializer):
    """JSON ``{"email", "password"}`` or an OAuth2 password form (``username=``)."""

    email = serializers.CharField(required=False, max_length=254)
    username = serializers.CharField(required=False, max_length=254, write_only=True)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    remember_me = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        email = attrs.pop("email", None) or attrs.pop("username", None)
        if not email:
            raise serializers.ValidationError({"email": ["This field is required."]})
        attrs["email"] = email
        return attrs


class TokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField(default="bearer")
    expires_in = serializers.IntegerField()


class SessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = RefreshToken
        fields = [
            "id",
            "created_at",
            "last_used_at",
            "expires_at",
            "user_agent",
            "ip_address",
            "current",
        ]

    def get_current(self, session: RefreshToken) -> bool:
        return str(session.id) == self.context.get("current_session_id")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class LogoutAllSerializer(MessageSerializer):
    revoked = serializers.IntegerField()
