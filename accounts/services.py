"""Account writes: registration and password change."""

import uuid

from django.db import IntegrityError, transaction

from accounts.models import User
from tokens import services as sessions
from tokens.errors import InvalidCurrentPassword, UserAlreadyExists
from tokens.models import RevokeReason


def register(*, email: str, password: str) -> User:
    """Create an active user, or raise UserAlreadyExists for a taken email."""
    if User.objects.filter(email=email).exists():
        raise UserAlreadyExists()
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password)
    except IntegrityError:  # a concurrent registration of the same address won
        raise UserAlreadyExists() from None


def change_password(
    user: User, *, current_password: str, new_password: str, current_session_id: uuid.UUID | None
) -> int:
    """Set a new password and revoke every other session; returns how many."""
    if not user.check_password(current_password):
        raise InvalidCurrentPassword()
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        return sessions.revoke_all(
            user, reason=RevokeReason.PASSWORD_CHANGE, keep=current_session_id
        )
