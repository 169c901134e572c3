"""A session is bound to the password it was opened with: what a password change ends.

``tokens.receivers`` calls ``password_changed`` whenever the user model saves a
password, whatever path changed it; a project's own change-password view calls it
first with ``keep``, so the session that made the change lives on.
"""

import uuid
from datetime import datetime

from django.utils import timezone

from tokens import crypto
from tokens.models import RefreshToken, RevokeReason


def password_changed(user, *, keep: uuid.UUID | None = None, now: datetime | None = None) -> int:
    """End every live session of the user opened with another password; returns how many.

    Call it after setting ``user.password``, before or after saving it. ``keep`` (the
    session that changed the password through the API) is bound to the new password
    first and lives on.
    """
    now = now or timezone.now()
    if keep is not None:
        # Knowing the current password is a proof too: auth_time renews from the next refresh.
        RefreshToken.objects.live(now).filter(pk=keep, user=user).update(
            password_binding=crypto.password_binding(user.password), authenticated_at=now
        )
    stale = RefreshToken.objects.filter(user=user).bound_elsewhere(user.password)
    return len(stale.revoke(RevokeReason.PASSWORD_CHANGE, now))
