"""The project's admin site: Django's, with its login form rate-limited like the API login.

Installed as the default site by ``authsite.apps.AdminConfig`` (Django's documented way to
override it), so ``admin.site``, every ``@admin.register`` and every redirect to the login
page use it.
"""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from rest_framework.exceptions import Throttled

from tokens import known_devices, ratelimit
from tokens.errors import RateLimitUnavailable


class AdminSite(admin.AdminSite):
    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Django's login view, limited like the API's login: every POST per client IP,
        and failed password checks per account (or per known device, which a successful
        login here remembers as the API's does). Over a limit: 429 before any password
        check. Loading the form checks nothing and counts nothing."""
        if request.method != "POST":
            return super().login(request, extra_context)
        username, password = request.POST.get("username"), request.POST.get("password")
        try:
            retry_after = ratelimit.count(
                request,
                group=f"{type(self).__module__}.{type(self).__qualname__}.login",
                rate_setting="RATE_LIMIT_LOGIN",
                keys=ratelimit.IP_KEYS,
            )
            if retry_after:
                return _too_many(retry_after)
            if not (username and password):  # the form refuses it without a check
                return super().login(request, extra_context)
            with ratelimit.password_guess(request, username):
                response = super().login(request, extra_context)
        except RateLimitUnavailable:
            # Fail closed, as the API does: no counting, no guessing.
            return HttpResponse(
                "Login is unavailable, try again later.",
                status=503,
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": "5"},
            )
        except Throttled as exc:
            return _too_many(exc.wait)
        if request.user.is_authenticated:
            known_devices.remember(response, request.user)
        return response

    def password_change(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Django's password form. A new password voids every device cookie, the one of
        the browser that set it too: that browser has just proved the password, so it
        gets a new one (as the API's change-password does)."""
        before = request.user.password
        response = super().password_change(request, extra_context)
        if request.user.password != before:
            known_devices.remember(response, request.user)
        return response


def _too_many(retry_after: int) -> HttpResponse:
    return HttpResponse(
        "Too many login attempts. Try again later.",
        status=429,
        content_type="text/plain; charset=utf-8",
        headers={"Retry-After": str(int(retry_after))},
    )
