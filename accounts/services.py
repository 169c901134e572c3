"""Account writes: registration and password change."""

import uuid

from django.contrib.auth.hashers import check_password
from django.db import IntegrityError, transaction

from accounts.errors import InvalidCurrentPassword, UserAlreadyExists
from accounts.models import User
from tokens.passwords import password_changed


def register(*, email: str, password: str) -> User:
    """Create an active user, or raise UserAlreadyExists for a taken email."""
    if User.objects.filter(email=email).exists():
        raise UserAlreadyExists()
    # Hashed before the transaction opens: on SQLite a transaction holds the
    # database-wide write lock, which every login and refresh would wait behind.
    user = User(email=email)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent registration of the same address won
        raise UserAlreadyExists() from None
    return user


def change_password(
    user: User, *, current_password: str, new_password: str, current_session_id: uuid.UUID | None
) -> int:
    """Set a new password and revoke every other session; returns how many.

    Both hashings happen before the transaction (SQLite's write lock, see register).
    The check skips Django's hash upgrade: that would save the old password again.
    """
    if not check_password(current_password, user.password):
        raise InvalidCurrentPassword()
    user.set_password(new_password)
    with transaction.atomic():
        # The caller's session is bound to the new password before the save, so the
        # save's receiver (tokens.receivers) finds only the others to end.
        revoked = password_changed(user, keep=current_session_id)
        user.save(update_fields=["password"])
    return revoked
