"""The user admin: email-based add and change forms, live session counts, log out."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from tokens import maintenance, texts
from tokens.admin import SessionInline
from tokens.models import RefreshToken, RevokeReason


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


def live_session_count() -> Coalesce:
    """Per user row, a correlated count of their live sessions.

    A subquery rather than ``Count()`` over a join: it runs for the page's rows only,
    one index range each (``tokens_user_created_idx``), instead of grouping every
    session in the table before the page is cut.
    """
    live = (
        RefreshToken.objects.live(timezone.now())
        .filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(live, output_field=IntegerField()), 0)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "is_active", "is_staff", "date_joined", "live_sessions"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email"]
    readonly_fields = ["date_joined", "last_login"]
    inlines = [SessionInline]
    actions = ["log_out_everywhere"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]},
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(live_session_count=live_session_count())

    def get_inline_instances(self, request: HttpRequest, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description="live sessions")  # not sortable: would count every user
    def live_sessions(self, user: User) -> int:
        return user.live_session_count

    @admin.action(description="Log out of all devices", permissions=["change"])
    def log_out_everywhere(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = maintenance.revoke_users(queryset, reason=RevokeReason.ADMIN)
        self.message_user(request, texts.revoked(count), messages.SUCCESS)
