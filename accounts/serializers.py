"""Input and output shapes of the account views."""

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.module_loading import import_string
from rest_framework import serializers

from accounts.emails import InvalidEmail, canonical_email
from accounts.fields import StrictEmailField
from accounts.models import User
from tokens.fields import StrictCharField


def password_min_length() -> int:
    """The shortest password AUTH_PASSWORD_VALIDATORS accept (1 without a length rule).

    Read from the configured MinimumLengthValidator (its OPTIONS, else its default), so
    the schema's minLength is the validators' number, never a copy of it. Only that one
    validator is built: CommonPasswordValidator reads a 20,000-word file when it is.
    """
    lengths = []
    for config in settings.AUTH_PASSWORD_VALIDATORS:
        validator_class = import_string(config["NAME"])
        if issubclass(validator_class, password_validation.MinimumLengthValidator):
            lengths.append(validator_class(**config.get("OPTIONS", {})).min_length)
    return max(lengths, default=1)


class NewPasswordField(StrictCharField):
    """A password about to be set, at least as long as the validators require.

    DRF checks the length (and the schema says ``minLength``) with the validators' own
    number; the validators then judge the rest (similarity, common, numeric).
    """

    def __init__(self, **kwargs):
        super().__init__(
            min_length=password_min_length(), max_length=4096, trim_whitespace=False, **kwargs
        )


class EmailAddressField(StrictEmailField):
    """An email address, given in its canonical form (accounts.emails), which is what
    EmailValidator and the length limit then judge; a 400 field error for an address
    that has none (invisible characters, a domain IDNA refuses)."""

    def to_internal_value(self, data) -> str:
        try:
            return canonical_email(super().to_internal_value(data))
        except InvalidEmail as exc:
            raise serializers.ValidationError(exc.message, code="invalid") from None


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "is_active", "is_superuser", "date_joined"]
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer):
    email = EmailAddressField(max_length=254)
    password = NewPasswordField()

    def validate(self, attrs):
        # The validators compare the password with the email, so they run here,
        # where both are known, and report under the password field.
        try:
            password_validation.validate_password(attrs["password"], User(email=attrs["email"]))
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class ChangePasswordSerializer(serializers.Serializer):
    current_password = StrictCharField(max_length=4096, trim_whitespace=False)
    new_password = NewPasswordField()

    def validate_new_password(self, value: str) -> str:
        password_validation.validate_password(value, self.context["user"])
        return value
