"""Serializer fields that take a JSON value only of the type the schema promises.

DRF's CharField turns the JSON number 42 into "42" and its BooleanField reads "yes",
"on" or 1 as true: the OpenAPI schema says string and boolean, so a client that sends
anything else gets a 400 field error rather than a guess. A form body
(``application/x-www-form-urlencoded``) carries only strings, so there a boolean keeps
DRF's spellings ("true", "1", "on"...). A leaf: the project's apps build on ``StringOnly``.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html


class StringOnly:
    """A CharField (or subclass) that refuses any JSON value that is not a string."""

    default_error_messages = {"not_a_string": _("Not a valid string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictCharField(StringOnly, serializers.CharField):
    pass


class StrictBooleanField(serializers.BooleanField):
    """``true`` or ``false`` in JSON; DRF's string forms in a form body only.

    Absent is absent in a form too: DRF reads a boolean missing from form input as an
    unticked checkbox (false), so an empty form would have turned a setting off.
    """

    default_empty_html = empty

    def to_internal_value(self, data):
        body = getattr(self.root, "initial_data", None)
        if not isinstance(data, bool) and not html.is_html_input(body):
            self.fail("invalid", input=data)
        return super().to_internal_value(data)
