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

from tokens import ratelimit
from tokens.errors import RateLimitUnavailable


class AdminSite(admin.AdminSite):
    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Django's login view, refused with 429 (before any password check) once the
        client IP or the submitted username is over RATE_LIMIT_LOGIN. Only POSTs count:
        loading the form checks nothing."""
        if request.method == "POST":
            try:
                retry_after = ratelimit.count(
                    request,
                    group=f"{type(self).__module__}.{type(self).__qualname__}.login",
                    rate_setting="RATE_LIMIT_LOGIN",
                    keys=ratelimit.LOGIN_KEYS,
                )
            except RateLimitUnavailable:
                # Fail closed, as the API does: no counting, no guessing.
                return HttpResponse(
                    "Login is unavailable, try again later.",
                    status=503,
                    content_type="text/plain; charset=utf-8",
                    headers={"Retry-After": "5"},
                )
            if retry_after:
                return HttpResponse(
                    "Too many login attempts. Try again later.",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                    headers={"Retry-After": str(retry_after)},
                )
        return super().login(request, extra_context)
