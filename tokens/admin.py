"""The sessions admin: inspect, filter, search and revoke, fast at a million rows.

What a session is comes from the model (``RefreshToken.status``, ``with_status``);
revoking, with its confirmation page, from ``tokens.admin_revocation``. Every query the
changelist makes is bounded: the default order and each filter choice are served by an
index, the user is joined (not fetched per row), the count is capped
(``CappedCountPaginator``) and never repeated unfiltered.
"""

import uuid
from datetime import datetime

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.html import format_html, format_html_join

from tokens.admin_revocation import RevocationMixin
from tokens.models import NotificationPreference, RefreshToken, SessionStatus
from tokens.paginator import CappedCountPaginator

SHORT_ID_LENGTH = 8  # hex digits of the id shown in lists; the full id is in its title

READ_ONLY_FIELDS = [
    "id",
    "status",
    "user",
    "device",
    "user_agent",
    "ip_address",
    "created_at",
    "last_used_at",
    "authenticated_at",  # the last password proof: auth_time of its access tokens
    "rotated_at",
    "expires_at",
    "absolute_expires_at",
    "revoked_at",
    "revoke_reason",
    "remember_me",
    "generation",
]


def two_lines(value: datetime | None) -> str:
    """A date and time in the site's time zone and formats, the time under the date: a
    column a third as wide as the admin's own datetime cells, which never wrap."""
    if value is None:
        return "-"
    value = timezone.localtime(value)
    return format_html(
        '<span class="nowrap">{}</span><br><span class="nowrap">{}</span>',
        date_format(value, "DATE_FORMAT"),
        time_format(value, "TIME_FORMAT"),
    )


def login_field_name() -> str:
    """What the user model's login field is called: "email address", "username"..."""
    user_model = get_user_model()
    return str(user_model._meta.get_field(user_model.USERNAME_FIELD).verbose_name)


def wrap_at(value: str, separator: str, *, after: bool = False) -> str:
    """``value`` with a line-break opportunity (``<wbr>``) before each ``separator`` (or
    after it): a narrow column wraps an email at its "@" and an IPv6 address at its
    colons, never inside a word."""
    joint = format_html("{}<wbr>", separator) if after else format_html("<wbr>{}", separator)
    return format_html_join(joint, "{}", ((part,) for part in value.split(separator)))


def short_id(session: RefreshToken) -> str:
    """The id's first hex digits, monospace, the whole id in its title."""
    return format_html(
        '<code class="session-id" title="{}">{}</code>',
        session.id,
        session.id.hex[:SHORT_ID_LENGTH],
    )


class StatusFilter(admin.SimpleListFilter):
    """The model's statuses (``RefreshToken.status``), each one indexed condition
    (``RefreshTokenQuerySet.with_status``)."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return SessionStatus.choices

    def queryset(self, request, queryset):
        if self.value() in SessionStatus.values:
            return queryset.with_status(self.value())
        return queryset


def by_login_name(queryset: QuerySet, term: str) -> QuerySet:
    """Rows of the user whose login name is ``term``, normalized as the user model
    normalizes it: one lookup on the users' unique index. Django's default search,
    ``icontains``, is a ``LIKE '%..%'`` scan of the whole table per search."""
    user_model = get_user_model()
    name = user_model.normalize_username(term)
    return queryset.filter(**{f"user__{user_model.USERNAME_FIELD}": name})


@admin.register(RefreshToken)
class SessionAdmin(RevocationMixin, admin.ModelAdmin):
    # Status first, then what tells sessions apart, in the width of a laptop's screen
    # beside the filter (see changelist_view); the rest (user agent, absolute expiry,
    # generation) is on the session's page.
    list_display = [
        "status",
        "short_id",
        "user_email",
        "device",
        "created",
        "last_used",
        "expires",
        "ip",
    ]
    list_display_links = ["short_id"]
    list_filter = [StatusFilter]
    # Exact matches only, see get_search_results.
    search_fields = ["pk"]  # shows the search box; get_search_results does the search
    ordering = ["-created_at"]
    sortable_by = ["created", "expires"]  # the indexed columns
    list_select_related = ["user"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facets would count every choice
    paginator = CappedCountPaginator
    fields = READ_ONLY_FIELDS
    readonly_fields = READ_ONLY_FIELDS
    actions = ["revoke_selected", "revoke_users_sessions"]
    change_list_template = "admin/tokens/refreshtoken/change_list.html"
    change_form_template = "admin/tokens/refreshtoken/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sessions start at a login, nowhere else

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoke instead; the purge deletes once they expire

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Model-level "change" gates the revoke actions; a session itself is view-only.
        return obj is None and super().has_change_permission(request)

    @property
    def search_help_text(self) -> str:
        return f"A user's exact {login_field_name()}, or a session id."

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        # The index and the app list say "View", not "Change": "change" only revokes.
        return {**super().get_model_perms(request), "change": False}

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # "change" is granted for revoking only: nothing here is edited. The app list on
        # the left would leave the table a third of a 1280 px screen; the breadcrumbs
        # lead back to it.
        context = {"title": "Select session to view", "is_nav_sidebar_enabled": False}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def get_search_results(self, request, queryset, search_term):
        """A session id (any UUID spelling) by primary key, else a user's exact login
        name (``by_login_name``): each one index lookup."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            return by_login_name(queryset, term), False

    @admin.display(description="user")
    def user_email(self, session: RefreshToken) -> str:
        return wrap_at(session.user.get_username(), "@")

    @admin.display(description="created", ordering="created_at")
    def created(self, session: RefreshToken) -> str:
        return two_lines(session.created_at)

    @admin.display(description="last used")
    def last_used(self, session: RefreshToken) -> str:
        return two_lines(session.last_used_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, session: RefreshToken) -> str:
        return two_lines(session.expires_at)

    @admin.display(description="IP", empty_value="-")
    def ip(self, session: RefreshToken) -> str | None:
        return session.ip_address and wrap_at(session.ip_address, ":", after=True)

    @admin.display(description="id")
    def short_id(self, session: RefreshToken) -> str:
        return short_id(session)

    @admin.display(description="status")
    def status(self, session: RefreshToken) -> str:
        """A colored label; a revoked session's reason under it."""
        state = session.status()
        if state != SessionStatus.REVOKED:
            return format_html('<span class="session-status {}">{}</span>', state, state)
        return format_html(
            '<span class="session-status revoked">revoked</span>'
            '<small class="session-reason">{}</small>',
            session.get_revoke_reason_display() or "unknown",
        )


# Sessions on a user's page: with the cap raised or off a user may have thousands, and
# every row is a form (10,000 made an 18 MB page that took 12 s).
RECENT_SESSIONS_SHOWN = 20


class RecentSessionsFormSet(BaseInlineFormSet):
    """The user's RECENT_SESSIONS_SHOWN most recently used live sessions, and how many
    live sessions there are in all (``live_count``) for the link to the rest."""

    def get_queryset(self) -> list[RefreshToken]:
        if not hasattr(self, "_recent"):
            live = super().get_queryset()
            self.live_count = live.count()
            # A list, read once: the formset indexes it once per row.
            self._recent = list(live[:RECENT_SESSIONS_SHOWN])
        return self._recent


class SessionInline(admin.TabularInline):
    """A user's most recently used live sessions, read-only, and a link to all of them in
    the sessions admin (searched by the user's login name)."""

    model = RefreshToken
    formset = RecentSessionsFormSet
    template = "admin/tokens/refreshtoken/recent_sessions.html"
    fields = ["id", "created_at", "last_used_at", "expires_at", "ip_address", "device"]
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


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Who turned the new-device email off (or on again). Users without a row get it.

    The other security emails have no switch, so there is nothing else to show.
    """

    list_display = ["user_name", "new_device"]
    list_filter = ["new_device"]
    list_select_related = ["user"]
    # A user picker that does not load every user into a <select>.
    raw_id_fields = ["user"]
    search_fields = ["pk"]  # shows the search box; get_search_results does the search

    @property
    def search_help_text(self) -> str:
        return f"A user's exact {login_field_name()}."

    def get_search_results(self, request, queryset, search_term):
        """A user's exact login name (``by_login_name``)."""
        term = search_term.strip()
        return (by_login_name(queryset, term) if term else queryset), False

    @admin.display(description="user", ordering="user")
    def user_name(self, preference: NotificationPreference) -> str:
        return preference.user.get_username()
