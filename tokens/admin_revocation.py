"""Revoking from the sessions admin: the changelist's two actions and a session's Revoke
button, each through a confirmation page first, as Django's own delete is.

Django's ``delete_selected`` lists every object it would delete, unbounded: at a million
selected rows that page never renders. This one follows its protocol (the selection
posted back with ``post=yes``, ``select_across``, the action checkboxes) and lists at
most ``CONFIRM_SHOWN`` sessions, counting the rest as far as the changelist does.
Revocation goes through ``tokens.maintenance`` (reason ``admin``), exactly as the API's.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from tokens import maintenance, texts
from tokens.models import RefreshToken, RevokeReason
from tokens.paginator import EXACT_COUNT_LIMIT

CONFIRM_SHOWN = 100  # sessions (and users) listed on a confirmation page; the rest counted
CONFIRMATION_TEMPLATE = "admin/tokens/refreshtoken/revoke_confirmation.html"


class RevocationMixin:
    """For the sessions' ModelAdmin: ``actions = ["revoke_selected",
    "revoke_users_sessions"]``, a ``revoke/`` URL per session and its button."""

    def get_urls(self):
        revoke = self.admin_site.admin_view(self.revoke_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_revoke"
        return [path("<path:object_id>/revoke/", revoke, name=name), *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The session's page, with a Revoke button while it lives (and may be revoked)."""
        if obj is not None and obj.is_live() and self.has_change_permission(request):
            context["revoke_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_revoke",
                args=[quote(obj.pk)],
                current_app=self.admin_site.name,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description="Revoke selected sessions", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if request.POST.get("post") == "yes":  # confirmed
            count = maintenance.revoke_sessions(queryset, reason=RevokeReason.ADMIN)
            self.message_user(request, texts.revoked(count), messages.SUCCESS)
            return None
        return self.revoke_confirmation(
            request, queryset.live(), action="revoke_selected", title="Revoke sessions"
        )

    @admin.action(description="Revoke all sessions of these users", permissions=["change"])
    def revoke_users_sessions(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        users = get_user_model().objects.filter(pk__in=queryset.values("user"))
        if request.POST.get("post") == "yes":  # confirmed
            count = maintenance.revoke_users(users, reason=RevokeReason.ADMIN)
            self.message_user(request, texts.revoked(count), messages.SUCCESS)
            return None
        return self.revoke_confirmation(
            request,
            RefreshToken.objects.live().filter(user__in=users),
            action="revoke_users_sessions",
            title="Revoke every session of these users",
        )

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One session's Revoke button: the confirmation page, then the revocation."""
        if not self.has_change_permission(request):  # revoking is "change"
            raise PermissionDenied
        session = self.get_object(request, unquote(object_id))
        if session is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        session_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[quote(session.pk)],
            current_app=self.admin_site.name,
        )
        if request.method == "POST" and request.POST.get("post") == "yes":
            count = maintenance.revoke_sessions([session.pk], reason=RevokeReason.ADMIN)
            self.message_user(request, texts.revoked(count), messages.SUCCESS)
            return HttpResponseRedirect(session_url)
        return self.revoke_confirmation(
            request,
            RefreshToken.objects.live().filter(pk=session.pk),
            title="Revoke this session",
            original=session,
            cancel_url=session_url,
        )

    def revoke_confirmation(
        self,
        request: HttpRequest,
        targets: QuerySet,
        *,
        title: str,
        action: str | None = None,
        original: RefreshToken | None = None,
        cancel_url: str | None = None,
    ) -> TemplateResponse:
        """The page that says what a revocation would revoke, to confirm or cancel.

        Bounded at any selection ("select all" over a million rows): it lists the first
        CONFIRM_SHOWN live sessions, newest first (an index range), and counts the rest
        only as far as the changelist's count does (EXACT_COUNT_LIMIT). Confirming posts
        the same selection back with ``post=yes``, as Django's delete_selected does.
        """
        shown = list(
            targets.select_related("user").order_by("-created_at", "-pk")[: CONFIRM_SHOWN + 1]
        )
        if len(shown) <= CONFIRM_SHOWN:
            count = len(shown)
        else:
            shown = shown[:CONFIRM_SHOWN]
            count = targets.order_by().values("pk")[: EXACT_COUNT_LIMIT + 1].count()
        users = list({s.user_id: s.user for s in shown}.values())
        if cancel_url is None:  # back to the changelist, its filters kept
            cancel_url = request.get_full_path()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "original": original,
            "sessions": [(s, self.short_id(s)) for s in shown],
            "users": users,
            "count": min(count, EXACT_COUNT_LIMIT),
            "count_is_floor": count > EXACT_COUNT_LIMIT,  # "more than 10000"
            "more": 0 if count > EXACT_COUNT_LIMIT else count - len(shown),
            "action": action,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across") == "1",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)
