"""Sessions in bulk for tests: rows straight into the table, no login flow."""

import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from tokens import crypto
from tokens.models import RefreshToken


def make_sessions(
    user,
    count: int,
    *,
    now: datetime | None = None,
    expires_in: timedelta = timedelta(days=7),
    **fields,
) -> list[RefreshToken]:
    """``count`` sessions of ``user`` created at ``now``, expiring ``expires_in`` later.

    A negative ``expires_in`` makes expired sessions. Creation times step back one
    second per row so the admin's order is predictable (the first row is the newest).
    Each is bound to the user's password, as a login binds it.
    """
    now = now or timezone.now()
    fields.setdefault("password_binding", crypto.password_binding(user.password))
    rows = [
        RefreshToken(
            id=uuid.uuid4(),
            user=user,
            created_at=now - timedelta(seconds=i),
            last_used_at=now - timedelta(seconds=i),
            expires_at=now + expires_in,
            absolute_expires_at=now + max(expires_in, timedelta(days=30)),
            **fields,
        )
        for i in range(count)
    ]
    return RefreshToken.objects.bulk_create(rows, batch_size=500)
