"""The API's body parsers: DRF's, minus the ways a hostile body gets past them."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser, refusing a body nested too deeply to parse.

    ``json`` recurses once per ``[`` or ``{``; about a thousand of them raise
    RecursionError, which is not the ValueError DRF catches, so the request became a
    500. A ParseError is what the client sent: 400 MALFORMED_BODY (tokens.exceptions).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
