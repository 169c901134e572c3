"""One row per session: the chain of refresh tokens that started with one login."""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from tokens.client import USER_AGENT_MAX_LENGTH


class RevokeReason(models.TextChoices):
    LOGOUT = "logout", "logout"
    LOGOUT_ALL = "logout_all", "logout from all devices"
    REVOKED = "revoked", "revoked by the user"
    PASSWORD_CHANGE = "password_change", "password change"
    REPLAY = "replay", "replay detected"
    EVICTED = "evicted", "evicted by the session cap"
    ADMIN = "admin", "revoked by an administrator"


class RefreshTokenQuerySet(models.QuerySet):
    def live(self, now: datetime | None = None) -> "RefreshTokenQuerySet":
        """Sessions that can still refresh: not revoked, not past either expiry."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())

    def expired(self, now: datetime | None = None) -> "RefreshTokenQuerySet":
        """Sessions past their idle or absolute expiry (revoked or not): purgeable."""
        return self.filter(expires_at__lte=now or timezone.now())


class RefreshToken(models.Model):
    """A session (a refresh-token family). The token itself is never stored.

    ``expires_at`` is the idle expiry, already capped at ``absolute_expires_at``, so a
    single indexed column answers "is it live?" for both lifetimes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    generation = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    absolute_expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=32, choices=RevokeReason.choices, blank=True)
    remember_me = models.BooleanField(default=False)
    user_agent = models.CharField(max_length=USER_AGENT_MAX_LENGTH, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = RefreshTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "session"
        verbose_name_plural = "sessions"
        ordering = ["-created_at"]
        indexes = [
            # The user's sessions, newest first (sessions list, revoke all, the cap).
            models.Index(fields=["user", "-created_at"], name="tokens_user_created_idx"),
            # Expired rows for the purge (and the admin's "expired" filter). The purge
            # walks it in (expires_at, id) order, so the id is in the index: the next
            # batch's bound is read from the index alone.
            models.Index(fields=["expires_at", "id"], name="tokens_expires_id_idx"),
            # The admin changelist's order: Django appends "-pk" to "-created_at" to make
            # it total, so this index hands over the first page without a sort.
            models.Index(fields=["-created_at", "-id"], name="tokens_created_idx"),
            # The admin's "revoked" filter in that order: only revoked rows, so a page of
            # them never scans past the live ones.
            models.Index(
                fields=["-created_at", "-id"],
                name="tokens_revoked_created_idx",
                condition=models.Q(revoked_at__isnull=False),
            ),
            # The session cap: a user's unrevoked sessions by last use (least recently
            # used first to go), without reading their revoked history.
            models.Index(
                fields=["user", "-last_used_at"],
                name="tokens_user_lastused_idx",
                condition=models.Q(revoked_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.id}"

    def is_live(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())
