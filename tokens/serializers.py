"""Input and output shapes of the token views."""

from rest_framework import serializers

from tokens.fields import StrictBooleanField, StrictCharField
from tokens.models import RefreshToken


class LoginSerializer(serializers.Serializer):
    """JSON ``{"email", "password"}`` or an OAuth2 password form (``username=``).

    Either name carries the user model's login name (its USERNAME_FIELD: the email
    address in this project, the username with Django's stock User).
    """

    email = StrictCharField(required=False, max_length=254)
    username = StrictCharField(required=False, max_length=254, write_only=True)
    password = StrictCharField(max_length=4096, trim_whitespace=False)
    # Optional, false when absent. Not ``default=False``: openapi-typescript types every
    # property with a schema default as always present, so a client generated from the
    # schema would have to send it (docs/api.md, "The OpenAPI document").
    remember_me = StrictBooleanField(
        required=False, help_text="The long idle lifetime for this session. False if absent."
    )

    def validate(self, attrs):
        attrs.setdefault("remember_me", False)
        name = attrs.pop("email", None) or attrs.pop("username", None)
        if not name:
            raise serializers.ValidationError({"email": ["This field is required."]})
        attrs["username"] = name
        return attrs


# The two bodies LoginSerializer reads, each as the schema describes it (tokens/schema.py).
class LoginJsonSerializer(LoginSerializer):
    """JSON: ``email`` and ``password`` required; ``remember_me`` a JSON boolean."""

    email = StrictCharField(max_length=254)
    username = None


class LoginFormSerializer(LoginSerializer):
    """An OAuth2 password form: ``username`` (the email) and ``password`` required."""

    username = StrictCharField(max_length=254)
    email = None


class ReauthenticateSerializer(serializers.Serializer):
    password = StrictCharField(max_length=4096, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    # "DPoP" for a session bound to the client's key (RFC 9449 section 5, docs/dpop.md).
    token_type = serializers.ChoiceField(choices=["bearer", "DPoP"])
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
            "device",
            "ip_address",
            "current",
        ]
        # An output shape only: every field is in every answer, and the schema says so.
        read_only_fields = fields

    def get_current(self, session: RefreshToken) -> bool:
        return str(session.id) == self.context.get("current_session_id")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class LogoutAllSerializer(MessageSerializer):
    revoked = serializers.IntegerField()


class NotificationPreferencesSerializer(serializers.Serializer):
    """The optional security emails: ``{"new_device": true|false}`` (a JSON boolean).

    The emails about a stolen refresh token and a password change cannot be turned off.
    """

    new_device = StrictBooleanField(
        help_text="Email me when my account signs in from a device it never used."
    )


class IntrospectionRequestSerializer(serializers.Serializer):
    """RFC 7662's request: the token, and a hint that may be ignored (and is). The
    client_secret_post credentials are read by tokens.authentication; they are here for
    the schema."""

    token = StrictCharField(trim_whitespace=False, allow_blank=True)
    token_type_hint = StrictCharField(required=False, allow_blank=True, max_length=64)
    client_id = StrictCharField(
        required=False, help_text="client_secret_post: the service's id (not with Basic)."
    )
    client_secret = StrictCharField(
        required=False, help_text="client_secret_post: the service's secret (not with Basic)."
    )


class IntrospectionSerializer(serializers.Serializer):
    """RFC 7662's answer (for the schema). Inactive: ``{"active": false}`` alone."""

    active = serializers.BooleanField()
    sub = serializers.CharField(required=False, help_text="The user's id.")
    sid = serializers.CharField(required=False, help_text="The session's id.")
    exp = serializers.IntegerField(required=False)
    iat = serializers.IntegerField(required=False)
    auth_time = serializers.IntegerField(
        required=False, help_text="When the user last proved their password."
    )
    jti = serializers.CharField(required=False)
    iss = serializers.CharField(required=False, help_text="The issuer, when tokens carry one.")
    aud = serializers.JSONField(
        required=False, help_text="The audience (a string, or a list), when tokens carry one."
    )
    token_type = serializers.CharField(
        required=False, help_text='"bearer", or "DPoP" for a token bound to a key.'
    )
    cnf = serializers.JSONField(
        required=False,
        help_text='{"jkt": ...}: the thumbprint of the DPoP key a proof must be signed '
        "with (RFC 9449 section 6.2), for a token bound to one.",
    )


class JwksKeySerializer(serializers.Serializer):
    """One public JWK (RFC 7517): EC P-256 (``x``, ``y``) or OKP Ed25519 (``x``)."""

    kty = serializers.CharField()
    crv = serializers.CharField()
    x = serializers.CharField()
    y = serializers.CharField(required=False)
    kid = serializers.CharField()
    alg = serializers.CharField()
    use = serializers.CharField()


class JwksSerializer(serializers.Serializer):
    keys = JwksKeySerializer(many=True)
