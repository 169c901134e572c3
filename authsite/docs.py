"""The API docs page (/api/docs/): Swagger UI under a strict Content-Security-Policy.

The page shares its origin with the refresh cookie's path and with every bearer call,
so an injected script there could use both. drf-spectacular's split view serves
Swagger UI's init script as a file of its own (``?script``) instead of inline, so
scripts need nothing but 'self'; the template's one small inline <style> is allowed
by its hash, computed from the template itself (never from a response).
"""

import base64
import hashlib
import re
from functools import cache

from django.template.loader import get_template
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@cache
def _inline_style_sources(template_name: str) -> tuple[str, ...]:
    """CSP hash sources of the template's static inline <style> blocks."""
    source = get_template(template_name).template.source
    digests = (hashlib.sha256(css.encode()).digest() for css in _STYLE.findall(source))
    return tuple(f"'sha256-{base64.b64encode(digest).decode()}'" for digest in digests)


def content_security_policy(template_name: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            # Swagger UI's stylesheet, and the template's inline rules by hash.
            " ".join(["style-src 'self'", *_inline_style_sources(template_name)]),
            # The stylesheet's icons are data: URIs.
            "img-src 'self' data:",
            "font-src 'self'",
            # The schema, and "Try it out" calls to this API.
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI, its init script a separate same-origin file, with the policy above."""

    @extend_schema(exclude=True)  # the page is not part of the API it documents
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if request.GET.get("script") is None:  # the page; the script needs no policy
            response["Content-Security-Policy"] = content_security_policy(self.template_name)
        return response
