"""The account endpoints' strict fields, built like the tokens app's (tokens/fields.py)."""

from rest_framework import serializers

from tokens.fields import StringOnly


class StrictEmailField(StringOnly, serializers.EmailField):
    """An email address that must arrive as a JSON string (not the number 42)."""
