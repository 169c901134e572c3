"""The sessions admin: inspect, filter, search and revoke, fast at a million rows.

Revocation goes through ``tokens.services`` (reason ``admin``), exactly as the API's;
nothing here touches tokens. Every query the changelist makes is bounded: the default
order and each filter choice are served by an index, the user is joined (not fetched
per row), the count is capped (``CappedCountPaginator``) and never repeated unfiltered.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import Truncator

from tokens import maintenance
from tokens import messages as texts
from tokens.models import RefreshToken, RevokeReason
from tokens.paginator import CappedCountPaginator

USER_AGENT_SHOWN = 60

READ_ONLY_FIELDS = [
    "id",
    "user",
    "generation",
    "created_at",
    "last_used_at",
    "rotated_at",
    "expires_at",
    "absolute_expires_at",
    "revoked_at",
    "revoke_reason",
    "remember_me",
    "user_agent",
    "ip_address",
]


def session_status(session: RefreshToken, now=None) -> str:
    """'active', 'expired' or 'revoked: <reason>' (a revocation wins over an expiry)."""
    if session.revoked_at is not None:
        return f"revoked: {session.get_revoke_reason_display() or 'unknown'}"
    if session.expires_at <= (now or timezone.now()):
        return "expired"
    return "active"


class StatusFilter(admin.SimpleListFilter):
    """Active / expired / revoked, each one indexed condition.

    active: unrevoked and ``expires_at > now`` (the newest rows, read in index order);
    expired: unrevoked and ``expires_at <= now`` (``tokens_expires_id_idx``);
    revoked: ``revoked_at IS NOT NULL`` (the partial ``tokens_revoked_created_idx``).
    """

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("expired", "expired"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "active":
                return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
            case "expired":
                return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(RefreshToken)
class SessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user_email",
        "created_at",
        "last_used_at",
        "expires_at",
        "absolute_expires_at",
        "ip_address",
        "short_user_agent",
        "generation",
        "status",
    ]
    list_filter = [StatusFilter]
    # Exact matches only, see get_search_results.
    search_fields = ["pk"]  # shows the search box; get_search_results does the search
    search_help_text = "A user's exact login name (email address), or a session id."
    ordering = ["-created_at"]
    sortable_by = ["created_at", "expires_at"]  # the indexed columns
    list_select_related = ["user"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facets would count every choice
    paginator = CappedCountPaginator
    fields = READ_ONLY_FIELDS
    readonly_fields = READ_ONLY_FIELDS
    actions = ["revoke_selected", "revoke_users_sessions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sessions start at a login, nowhere else

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoke instead; the purge deletes once they expire

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Model-level "change" gates the revoke actions; a session itself is view-only.
        return obj is None and super().has_change_permission(request)

    def get_search_results(self, request, queryset, search_term):
        """A session id (any UUID spelling) matches by primary key, else a user's exact
        login name, normalized as the user model normalizes it.

        Each is one index lookup. Django's default, ``icontains``, is a ``LIKE '%..%'``
        scan of the whole table per search; an equality on the normalized name (the
        project's users store emails lower-cased) uses the users' unique index.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            user_model = get_user_model()
            name = user_model.normalize_username(term)
            return queryset.filter(**{f"user__{user_model.USERNAME_FIELD}": name}), False

    @admin.display(description="user")
    def user_email(self, session: RefreshToken) -> str:
        return session.user.get_username()

    @admin.display(description="user agent")
    def short_user_agent(self, session: RefreshToken) -> str:
        return Truncator(session.user_agent).chars(USER_AGENT_SHOWN)

    @admin.display(description="status")
    def status(self, session: RefreshToken) -> str:
        return session_status(session)

    @admin.action(description="Revoke selected sessions", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = maintenance.revoke_sessions(queryset, reason=RevokeReason.ADMIN)
        self.message_user(request, texts.revoked(count), messages.SUCCESS)

    @admin.action(description="Revoke all sessions of these users", permissions=["change"])
    def revoke_users_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        users = get_user_model().objects.filter(pk__in=queryset.values("user"))
        count = maintenance.revoke_users(users, reason=RevokeReason.ADMIN)
        self.message_user(request, texts.revoked(count), messages.SUCCESS)


class SessionInline(admin.TabularInline):
    """A user's live sessions (at most SESSIONS_PER_USER_LIMIT), read-only."""

    model = RefreshToken
    fields = ["id", "created_at", "last_used_at", "expires_at", "ip_address", "user_agent"]
    readonly_fields = fields
    ordering = ["-last_used_at"]
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "live sessions"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).live()

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
