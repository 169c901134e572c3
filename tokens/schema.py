"""The OpenAPI description of the tokens endpoints (drf-spectacular), kept out of the views.

Each view carries one decorator from here (``@schema.login``); the project's other apps
describe their own endpoints with the building blocks below (``error``, ``bad_request``,
``RATE_LIMITED``...). Every documented error
is ``{"detail": "<CODE>"}`` with the codes of tokens/errors.py listed as an enum, so a
client generator, the docs page and schemathesis all see exactly what can come back.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from tokens import errors
from tokens.serializers import (
    IntrospectionRequestSerializer,
    IntrospectionSerializer,
    JwksSerializer,
    LoginFormSerializer,
    LoginJsonSerializer,
    LogoutAllSerializer,
    MessageSerializer,
    NotificationPreferencesSerializer,
    ReauthenticateSerializer,
    SessionSerializer,
    TokenSerializer,
)
from tokens.settings import tokens_settings

BEARER = "bearerAuth"
REFRESH_COOKIE = "refreshCookie"
INTROSPECTION_CLIENT = "introspectionClient"


class SessionJWTScheme(OpenApiAuthenticationExtension):
    """Bearer access tokens (tokens.authentication and its subclasses)."""

    target_class = "tokens.authentication.SessionJWTAuthentication"
    match_subclasses = True
    name = BEARER

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION",
            token_prefix="Bearer",  # noqa: S106  (the scheme's name, not a secret)
            bearer_format="JWT",
        )


class IntrospectionClientScheme(OpenApiAuthenticationExtension):
    """HTTP Basic with a service's id and secret from INTROSPECTION_CLIENTS."""

    target_class = "tokens.authentication.IntrospectionClientAuthentication"
    name = INTROSPECTION_CLIENT

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "A service's client id and secret (INTROSPECTION_CLIENTS).",
        }


def _refresh_cookie_scheme() -> dict:
    return {
        "type": "apiKey",
        "in": "cookie",
        "name": tokens_settings.REFRESH_TOKEN_COOKIE_NAME,
        "description": "The opaque refresh token: HttpOnly, "
        f"Path={tokens_settings.REFRESH_TOKEN_COOKIE_PATH}.",
    }


def error_body(*codes: str) -> dict:
    """The JSON schema of ``{"detail": <one of codes>}``."""
    return {
        "type": "object",
        "properties": {"detail": {"type": "string", "enum": list(codes)}},
        "required": ["detail"],
    }


# DRF's field errors of a body that parsed but did not validate.
_FIELD_ERRORS = {
    "type": "object",
    "description": "Field errors: each field (or non_field_errors) with its messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


def error(description: str, *codes: str) -> OpenApiResponse:
    """A documented error response whose body is ``{"detail": <one of codes>}``."""
    return OpenApiResponse(response=error_body(*codes), description=description)


def bad_request(*codes: str) -> OpenApiResponse:
    """400: one of ``codes``, a body that is not JSON, or field errors."""
    return OpenApiResponse(
        response={"oneOf": [error_body(*codes, errors.MALFORMED_BODY), _FIELD_ERRORS]},
        description="Refused: " + ", ".join(codes) + "; malformed body; or field errors.",
    )


RATE_LIMITED = OpenApiResponse(
    response=error_body(errors.RATE_LIMITED),
    description="Over the rate limit; the Retry-After header says in how many seconds to retry.",
)
UNSUPPORTED_MEDIA_TYPE = error("The body is neither JSON nor a form.", errors.BY_STATUS[415])
# The refusals of a DPoP proof (RFC 9449, docs/dpop.md), wherever one is read.
DPOP_PROOF_CODES = (
    errors.DPOP_PROOF_INVALID,
    errors.DPOP_PROOF_WRONG_REQUEST,
    errors.DPOP_PROOF_WRONG_TOKEN,
    errors.DPOP_PROOF_EXPIRED,
    errors.DPOP_PROOF_REPLAYED,
    errors.DPOP_PROOF_REQUIRED,
    errors.DPOP_NONCE_REQUIRED,
)
# The DPoP codes are not listed in every authenticated endpoint's enum: only a client
# that binds its session sees them, and docs/dpop.md lists them once.
NOT_AUTHENTICATED = error(
    "No bearer token, or an invalid, expired or revoked one. A token bound to a DPoP key "
    "without its proof, or with a refused one: the DPOP_* codes of docs/dpop.md.",
    errors.NOT_AUTHENTICATED,
    errors.ACCESS_TOKEN_INVALID,
)
ORIGIN_NOT_ALLOWED = error(
    "Sent by a page on an untrusted origin (CSRF defence for cookie-only requests, login "
    "and register).",
    errors.ORIGIN_NOT_ALLOWED,
)

TOKENS = OpenApiResponse(
    TokenSerializer,
    description="A new access token. Sets the refresh cookie; Cache-Control: no-store.",
)

REAUTHENTICATION_REQUIRED = error(
    "The access token's auth_time is older than REAUTHENTICATION_MAX_AGE: prove the "
    "password again with POST /api/auth/reauthenticate, then retry with its access token.",
    errors.REAUTHENTICATION_REQUIRED,
)
ACCESS_ONLY = OpenApiResponse(
    TokenSerializer,
    description="A new access token for the same session. No cookie; Cache-Control: no-store.",
)

login = extend_schema(
    summary="Log in: start a session",
    description=(
        "JSON {email, password, remember_me} or an OAuth2 password form (username=...). "
        "Unknown email, wrong password and inactive user all answer LOGIN_BAD_CREDENTIALS "
        "after the same hashing work. Rate-limited by client IP and by submitted email."
    ),
    # One body per content type, each with what it requires: email in JSON, username
    # (OAuth2's name) in a form.
    request={
        "application/json": LoginJsonSerializer,
        "application/x-www-form-urlencoded": LoginFormSerializer,
    },
    responses={
        200: TOKENS,
        400: bad_request(errors.LOGIN_BAD_CREDENTIALS),
        401: error(
            "A refused DPoP proof, or none while DPOP_REQUIRED is on (docs/dpop.md).",
            *DPOP_PROOF_CODES,
        ),
        403: ORIGIN_NOT_ALLOWED,
        415: UNSUPPORTED_MEDIA_TYPE,
        429: RATE_LIMITED,
    },
)

refresh = extend_schema(
    summary="Trade the refresh cookie for a new access token",
    description=(
        "The refresh cookie alone authenticates. With rotation on, the cookie is replaced; "
        "a token used again after the reuse interval revokes its whole session."
    ),
    request=None,
    auth=[{REFRESH_COOKIE: []}],
    responses={
        200: TOKENS,
        401: error(
            "No cookie, or an unknown, expired, revoked or replayed token (the cookie is "
            "deleted), or the session's user is inactive; for a session bound to a DPoP "
            "key, no proof (the session lives on) or a refused one (docs/dpop.md).",
            errors.REFRESH_TOKEN_MISSING,
            errors.REFRESH_TOKEN_INVALID,
            errors.USER_INACTIVE,
            *DPOP_PROOF_CODES,
        ),
        403: ORIGIN_NOT_ALLOWED,
        429: RATE_LIMITED,
    },
)

logout = extend_schema(
    summary="Log out: end this session",
    description=(
        "Authenticated by a bearer token or by the refresh cookie alone (an expired access "
        "token must not leave the cookie stuck). Always deletes the cookie."
    ),
    request=None,
    auth=[{BEARER: []}, {REFRESH_COOKIE: []}],
    responses={
        200: MessageSerializer,
        401: error(
            "Neither a valid access token nor a live refresh cookie.", errors.NOT_AUTHENTICATED
        ),
        403: ORIGIN_NOT_ALLOWED,
        429: RATE_LIMITED,
    },
)

reauthenticate = extend_schema(
    summary="Prove the password again: a fresh auth_time for this session",
    description=(
        "For the actions that need a recent password proof (revoking another session, "
        "logout-all). Answers a new access token for the same session whose auth_time is "
        "now; later refreshes keep it. The refresh cookie is not touched. Rate-limited by "
        "client IP and by account; the account's budget is shared with login and change-password."
    ),
    request=ReauthenticateSerializer,
    responses={
        200: ACCESS_ONLY,
        400: bad_request(errors.REAUTHENTICATE_BAD_PASSWORD),
        401: NOT_AUTHENTICATED,
        415: UNSUPPORTED_MEDIA_TYPE,
        429: RATE_LIMITED,
    },
)

logout_all = extend_schema(
    summary="Log out from all devices",
    description="Needs a password proof within REAUTHENTICATION_MAX_AGE (auth_time).",
    request=None,
    responses={
        200: LogoutAllSerializer,
        401: NOT_AUTHENTICATED,
        403: REAUTHENTICATION_REQUIRED,
        429: RATE_LIMITED,
    },
)

sessions = extend_schema(
    summary="The caller's live sessions, newest first",
    responses={200: SessionSerializer(many=True), 401: NOT_AUTHENTICATED},
)

revoke_session = extend_schema(
    summary="Revoke one of the caller's sessions",
    description=(
        "Revoking a session other than the caller's own needs a password proof within "
        "REAUTHENTICATION_MAX_AGE (auth_time); the caller's own is a logout and does not."
    ),
    responses={
        204: OpenApiResponse(description="Revoked."),
        401: NOT_AUTHENTICATED,
        403: REAUTHENTICATION_REQUIRED,
        404: error("No live session of the caller with this id.", errors.BY_STATUS[404]),
    },
)


def _with_oauth_error(body: dict, status: int) -> dict:
    """``body`` with RFC 6749 section 5.2's ``error`` of ``status`` beside our code."""
    return {
        **body,
        "properties": {
            "error": {"type": "string", "enum": [errors.OAUTH_ERRORS[status]]},
            **body.get("properties", {}),
        },
        "required": ["error", *body.get("required", [])],
    }


introspect = extend_schema(
    summary="Introspect an access token (RFC 7662), for other services",
    description=(
        "For a service named in INTROSPECTION_CLIENTS: HTTP Basic with its id and secret "
        "(form-encoded as RFC 6749 section 2.3.1 says, or raw), or client_id and "
        "client_secret in the body (client_secret_post); one method per request. "
        '{"active": true, ...claims} for an access token that would authenticate a '
        'request right now; exactly {"active": false} for anything else (expired, '
        "tampered, its session revoked, its user inactive, a refresh token). One query. "
        "Rate-limited per service; attempts that do not authenticate, per client IP. "
        'Errors carry RFC 6749\'s "error" beside "detail".'
    ),
    request={
        "application/x-www-form-urlencoded": IntrospectionRequestSerializer,
        "application/json": IntrospectionRequestSerializer,
    },
    responses={
        200: IntrospectionSerializer,
        400: OpenApiResponse(
            # anyOf, not oneOf: the two bodies do exclude each other (detail is a string in
            # one, a list in the other), but both name `error`, and linters judge by names.
            response={
                "anyOf": [
                    _with_oauth_error(error_body(errors.MALFORMED_BODY), 400),
                    _with_oauth_error(_FIELD_ERRORS, 400),
                ]
            },
            description="invalid_request: a malformed body, or no token field.",
        ),
        401: OpenApiResponse(
            response=_with_oauth_error(error_body(errors.NOT_AUTHENTICATED), 401),
            description=(
                "invalid_client: no credentials, ones that are not in INTROSPECTION_CLIENTS, "
                "or two methods at once (WWW-Authenticate: Basic)."
            ),
        ),
        415: UNSUPPORTED_MEDIA_TYPE,
        429: RATE_LIMITED,
    },
)

jwks = extend_schema(
    summary="The public keys that verify access tokens (JWK Set)",
    description=(
        "Every key that verifies access tokens, with its kid, alg and use: the signing "
        "key and the ACCESS_TOKEN_VERIFYING_KEYS (rotation). Empty with HS256, whose key "
        "is secret. Cache-Control: public, max-age=JWKS_MAX_AGE."
    ),
    responses={200: JwksSerializer},
)


notification_preferences = extend_schema_view(
    get=extend_schema(
        summary="The caller's optional security emails",
        description=(
            "Whether the caller is emailed when their account signs in from a device "
            "(browser and system) it never used; on unless turned off. The emails about a "
            "stolen refresh token and a password change always go out."
        ),
        responses={200: NotificationPreferencesSerializer, 401: NOT_AUTHENTICATED},
    ),
    put=extend_schema(
        summary="Turn the new-device email on or off",
        description=(
            "Turning it off needs a password proof within REAUTHENTICATION_MAX_AGE "
            "(auth_time), turning it on does not. An opt-out applies to sign-ins after "
            "it, not to one whose email is already queued."
        ),
        request=NotificationPreferencesSerializer,
        responses={
            200: NotificationPreferencesSerializer,
            400: OpenApiResponse(
                response={"oneOf": [error_body(errors.MALFORMED_BODY), _FIELD_ERRORS]},
                description="A malformed body, or new_device missing or not a JSON boolean.",
            ),
            401: NOT_AUTHENTICATED,
            403: REAUTHENTICATION_REQUIRED,
            415: UNSUPPORTED_MEDIA_TYPE,
        },
    ),
)


def add_common_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the refresh-cookie security scheme, and
    what every operation may answer.

    503 SERVICE_UNAVAILABLE when the database (or the rate-limit cache) cannot be
    reached, and Retry-After on every 429. An operation that needs no credentials says
    so with ``security: []`` (drf-spectacular leaves it out, which a linter cannot tell
    from a forgotten one).
    """
    unavailable = {
        "description": "The database or the rate-limit cache cannot be reached; retry later.",
        "content": {"application/json": {"schema": error_body(errors.SERVICE_UNAVAILABLE)}},
    }
    retry_after = {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 1},
            "description": "Seconds until the rate-limit window resets.",
        }
    }
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[REFRESH_COOKIE] = _refresh_cookie_scheme()
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("security", [])
            responses = operation.setdefault("responses", {})
            responses.setdefault("503", unavailable)
            if "429" in responses:
                responses["429"]["headers"] = retry_after
    return result
