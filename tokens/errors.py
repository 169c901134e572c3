"""Every error code a client can see, and the domain errors that carry them.

Services raise these: DRF exceptions whose detail is the code, so DRF's default
exception handler answers ``{"detail": "<CODE>"}``. No code string is spelled anywhere
else.
"""

from rest_framework import exceptions, status

LOGIN_BAD_CREDENTIALS = "LOGIN_BAD_CREDENTIALS"
REFRESH_TOKEN_MISSING = "REFRESH_TOKEN_MISSING"
REFRESH_TOKEN_INVALID = "REFRESH_TOKEN_INVALID"
USER_INACTIVE = "USER_INACTIVE"
ACCESS_TOKEN_INVALID = "ACCESS_TOKEN_INVALID"
NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED"
RATE_LIMITED = "RATE_LIMITED"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
MALFORMED_BODY = "MALFORMED_BODY"
REAUTHENTICATION_REQUIRED = "REAUTHENTICATION_REQUIRED"
REAUTHENTICATE_BAD_PASSWORD = "REAUTHENTICATE_BAD_PASSWORD"
# DPoP (RFC 9449, tokens.dpop): a proof that is not one, or not for this request.
DPOP_PROOF_INVALID = "DPOP_PROOF_INVALID"
DPOP_PROOF_WRONG_REQUEST = "DPOP_PROOF_WRONG_REQUEST"
DPOP_PROOF_WRONG_TOKEN = "DPOP_PROOF_WRONG_TOKEN"
DPOP_PROOF_EXPIRED = "DPOP_PROOF_EXPIRED"
DPOP_PROOF_REPLAYED = "DPOP_PROOF_REPLAYED"
DPOP_PROOF_REQUIRED = "DPOP_PROOF_REQUIRED"
DPOP_KEY_MISMATCH = "DPOP_KEY_MISMATCH"
DPOP_NONCE_REQUIRED = "DPOP_NONCE_REQUIRED"

# RFC 6749 section 5.2's error codes, by status, in the bodies of the introspection
# endpoint's errors (next to our code): what OAuth client libraries read.
OAUTH_ERRORS = {400: "invalid_request", 401: "invalid_client"}

# Codes for the generic HTTP failures, by status, for responses that Django or DRF
# produce before any of our code runs (unknown URL, wrong method, bad JSON...).
BY_STATUS = {
    400: "BAD_REQUEST",
    401: NOT_AUTHENTICATED,
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: RATE_LIMITED,
    500: "SERVER_ERROR",
    503: SERVICE_UNAVAILABLE,
}


def code_for_status(status_code: int) -> str:
    return BY_STATUS.get(status_code, "BAD_REQUEST" if status_code < 500 else "SERVER_ERROR")


class Coded:
    """A DRF exception whose detail is already one of the codes above."""

    # Whether the answer must also delete the refresh cookie (it is dead or unusable).
    clears_cookie = False


class AuthError(Coded, exceptions.APIException):
    """A refused auth-flow request: a stable code and the status that goes with it.

    A DRF ``APIException``, so any DRF project renders it as ``{"detail": "<CODE>"}``
    with DRF's default exception handler; the tokens views also delete the refresh
    cookie when ``clears_cookie`` says so (``tokens.views.TokensView``).
    """

    code = "BAD_REQUEST"
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self) -> None:
        super().__init__(detail=self.code, code=self.code)


class BadCredentials(AuthError):
    code = LOGIN_BAD_CREDENTIALS


class ReauthenticateBadPassword(AuthError):
    code = REAUTHENTICATE_BAD_PASSWORD


class ReauthenticationRequired(AuthError):
    """A destructive action asked of an access token whose password proof is too old."""

    code = REAUTHENTICATION_REQUIRED
    status_code = status.HTTP_403_FORBIDDEN


class RefreshTokenMissing(AuthError):
    code = REFRESH_TOKEN_MISSING
    status_code = status.HTTP_401_UNAUTHORIZED


class RefreshTokenInvalid(AuthError):
    code = REFRESH_TOKEN_INVALID
    status_code = status.HTTP_401_UNAUTHORIZED
    clears_cookie = True


class RefreshCookieConflict(RefreshTokenInvalid):
    """Two refresh cookies of different values (one planted on another path or domain):
    neither is used. Ours is kept and the others are deleted (``tokens.cookies``)."""

    clears_cookie = False


class UserInactive(AuthError):
    # The cookie stays: the session is intact and works again if the user is reactivated.
    code = USER_INACTIVE
    status_code = status.HTTP_401_UNAUTHORIZED


class NotLoggedIn(AuthError):
    """Logout with neither a valid access token nor a live refresh cookie."""

    code = NOT_AUTHENTICATED
    status_code = status.HTTP_401_UNAUTHORIZED
    clears_cookie = True


class OriginNotAllowed(AuthError):
    """A cookie-authenticated request sent from a page we do not trust (CSRF)."""

    code = ORIGIN_NOT_ALLOWED
    status_code = status.HTTP_403_FORBIDDEN


class RateLimitUnavailable(AuthError):
    """The rate-limit cache cannot be reached: refuse rather than count nothing."""

    code = SERVICE_UNAVAILABLE
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


# What a DPoP client is told in WWW-Authenticate (RFC 9449 section 7.1): the algorithms
# it may sign with, and RFC 6750's error.
DPOP_ALGORITHMS = "ES256 EdDSA Ed25519"


class DpopError(AuthError):
    """A request refused for its DPoP proof (RFC 9449): 401 with a DPoP challenge.

    Not a DRF AuthenticationFailed, which DRF turns into a 403 in a view without
    authentication classes (login, refresh): the challenge is the exception's own
    ``auth_header``, which DRF's default handler sends as WWW-Authenticate."""

    status_code = status.HTTP_401_UNAUTHORIZED
    error = "invalid_dpop_proof"

    def __init__(self) -> None:
        super().__init__()
        self.auth_header = f'DPoP algs="{DPOP_ALGORITHMS}", error="{self.error}"'


class DpopProofInvalid(DpopError):
    """Not a well-formed proof: typ, alg (none, HS256...), a jwk with private members,
    a bad signature, a missing claim."""

    code = DPOP_PROOF_INVALID


class DpopProofWrongRequest(DpopError):
    """A proof for another method (htm) or URI (htu)."""

    code = DPOP_PROOF_WRONG_REQUEST


class DpopProofWrongToken(DpopError):
    """A proof whose ath is not the hash of the access token it came with."""

    code = DPOP_PROOF_WRONG_TOKEN


class DpopProofExpired(DpopError):
    """A proof whose iat is outside DPOP_PROOF_WINDOW of the server's clock."""

    code = DPOP_PROOF_EXPIRED


class DpopProofReplayed(DpopError):
    """A proof whose jti was seen before (by any worker sharing the cache)."""

    code = DPOP_PROOF_REPLAYED


class DpopProofRequired(DpopError):
    """No proof where one is needed: a session bound to a key, a bound access token
    sent as Bearer, or any request when DPOP_REQUIRED is on. Nothing is revoked: the
    key's owner can still present one."""

    code = DPOP_PROOF_REQUIRED
    error = "invalid_token"


class DpopNonceRequired(DpopError):
    """A proof without the server's current nonce while DPOP_NONCE_LIFETIME is set: the
    answer carries the nonce to sign with (``DPoP-Nonce``, RFC 9449 section 8)."""

    code = DPOP_NONCE_REQUIRED
    error = "use_dpop_nonce"

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.dpop_nonce = nonce


class DpopKeyMismatch(DpopError):
    """An access token bound to one key, with a proof by another."""

    code = DPOP_KEY_MISMATCH
    error = "invalid_token"


class ClientCredentialsInvalid(Coded, exceptions.AuthenticationFailed):
    """A service presented introspection credentials that are not in
    INTROSPECTION_CLIENTS: NOT_AUTHENTICATED, as if it had sent none (a wrong secret
    and an unknown id alike). A DRF AuthenticationFailed, so the 401 carries the
    authentication class's ``WWW-Authenticate: Basic`` challenge."""

    default_detail = NOT_AUTHENTICATED
    default_code = NOT_AUTHENTICATED


class AccessTokenInvalid(Coded, exceptions.AuthenticationFailed):
    """A bearer token that is malformed, expired, badly signed, or whose session is
    over: 401 ACCESS_TOKEN_INVALID in any view that uses SessionJWTAuthentication."""

    default_detail = ACCESS_TOKEN_INVALID
    default_code = ACCESS_TOKEN_INVALID


class DatabaseUnavailable(Coded, exceptions.APIException):
    """The database cannot be reached: 503 SERVICE_UNAVAILABLE, try again in a moment."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = SERVICE_UNAVAILABLE
    default_code = SERVICE_UNAVAILABLE
    # DRF's default handler sends ``wait`` as Retry-After (seconds).
    wait = 5
