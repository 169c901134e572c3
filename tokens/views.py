"""The token endpoints. Each view parses the request, calls one service function and
shapes the response; cookie attributes and client headers live in their own modules."""

from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.settings import api_settings

from tokens import (
    caller,
    cookies,
    dpop,
    exceptions,
    extras,
    known_devices,
    notifications,
    passwords,
    services,
    signing,
    texts,
)
from tokens.access import AUTH_TIME_CLAIM, SESSION_ID_CLAIM
from tokens.authentication import (
    IntrospectionClientAuthentication,
    OptionalSessionJWTAuthentication,
    dpop_jkt_of,
    live_access_token,
    session_id_of,
)
from tokens.errors import OAUTH_ERRORS
from tokens.passwords import IssuedAccess
from tokens.permissions import (
    CookieRequestOrigin,
    RecentLogin,
    RequestOrigin,
    require_recent_login,
)
from tokens.ratelimit import (
    DefaultRate,
    IntrospectionRate,
    LoginRate,
    PasswordCheckRate,
    SensitiveRate,
    password_guess,
)
from tokens.serializers import (
    IntrospectionRequestSerializer,
    LoginSerializer,
    NotificationPreferencesSerializer,
    ReauthenticateSerializer,
    SessionSerializer,
)
from tokens.services import IssuedTokens
from tokens.settings import tokens_settings

if extras.installed("schema"):
    from tokens import schema
else:  # the endpoints work the same, only undescribed
    schema = extras.Undocumented()


class TokensView(APIView):
    """Every tokens endpoint: its errors are ``{"detail": "<CODE>"}`` whatever the
    project's EXCEPTION_HANDLER (``tokens.exceptions.as_coded``), and an error that
    means the refresh cookie is dead deletes it."""

    def handle_exception(self, exc: Exception) -> Response:
        exc = exceptions.as_coded(exc)
        return exceptions.finish(exc, super().handle_exception(exc), self.request, self)


def access_response(issued: IssuedAccess | IssuedTokens) -> Response:
    response = Response(
        {
            "access_token": issued.access_token,
            # RFC 9449 section 5: "DPoP" for a token bound to the client's key.
            "token_type": "bearer" if issued.dpop_jkt is None else "DPoP",
            "expires_in": issued.expires_in,
        }
    )
    # Tokens must not be kept by browsers or proxies (RFC 6749 section 5.1).
    response["Cache-Control"] = "no-store"
    nonce = dpop.current_nonce()
    if nonce is not None:  # the next proofs' nonce, without a refusal first (RFC 9449 8)
        response[dpop.NONCE_HEADER] = nonce
    response["Pragma"] = "no-cache"
    return response


def token_response(issued: IssuedTokens) -> Response:
    response = access_response(issued)
    cookies.set_refresh_cookie(response, issued.refresh_token, issued.refresh_max_age)
    return response


@schema.login
class LoginView(TokensView):
    authentication_classes = []
    # DRF checks permissions before throttles: a refused origin spends no budget, so a
    # foreign page in the victim's browser (the victim's IP) cannot lock them out.
    permission_classes = [RequestOrigin]
    throttle_classes = [LoginRate]

    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        # Checked before the password: a refused proof spends no password budget.
        proof = dpop.of_request(request)
        # Only a failed check spends the account's budget (or the known device's).
        with password_guess(request, username):
            issued = services.login(
                username=username,
                password=serializer.validated_data["password"],
                remember_me=serializer.validated_data["remember_me"],
                user_agent=caller.user_agent(request),
                ip_address=caller.client_ip(request),
                dpop_jkt=proof.jkt if proof is not None else None,
                request=request,
            )
        response = token_response(issued)
        known_devices.remember(response, issued.session.user)
        return response


@schema.refresh
class RefreshView(TokensView):
    authentication_classes = []
    permission_classes = [CookieRequestOrigin]
    throttle_classes = [DefaultRate]

    def post(self, request):
        refresh_token = cookies.read_refresh_cookie(request)
        proof = dpop.of_request(request) if refresh_token else None
        issued = services.refresh(
            refresh_token,
            ip_address=caller.client_ip(request),
            dpop_jkt=proof.jkt if proof is not None else None,
        )
        return token_response(issued)


@schema.logout
class LogoutView(TokensView):
    authentication_classes = [OptionalSessionJWTAuthentication]
    permission_classes = [CookieRequestOrigin]  # only without a bearer token
    throttle_classes = [DefaultRate]

    def post(self, request):
        user = request.user if request.user.is_authenticated else None
        services.logout(
            # With a bearer token two different cookies are ignored (it names the
            # session); without one they are refused.
            refresh_token=cookies.read_refresh_cookie(request, conflict_is_absent=bool(user)),
            user=user,
            access_session_id=session_id_of(request),
            request=request,
        )
        response = Response({"message": "Successfully logged out"})
        cookies.delete_refresh_cookie(response)
        return response


@schema.reauthenticate
class ReauthenticateView(TokensView):
    throttle_classes = [PasswordCheckRate]

    def post(self, request):
        serializer = ReauthenticateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = passwords.reauthenticate(
            request.user,
            session_id_of(request),
            serializer.validated_data["password"],
            # The proof was checked with the token (SessionJWTAuthentication).
            dpop_jkt=dpop_jkt_of(request),
            request=request,
        )
        return access_response(issued)


@schema.logout_all
class LogoutAllView(TokensView):
    permission_classes = [IsAuthenticated, RecentLogin]
    throttle_classes = [SensitiveRate]

    def post(self, request):
        revoked = services.logout_all(request.user)
        response = Response(
            {
                "message": f"Successfully logged out from all devices. {texts.revoked(revoked)}",
                "revoked": revoked,
            }
        )
        cookies.delete_refresh_cookie(response)
        return response


@schema.sessions
class SessionListView(TokensView):
    def get(self, request):
        serializer = SessionSerializer(
            services.live_sessions(request.user, current=session_id_of(request)),
            many=True,
            context={"current_session_id": session_id_of(request)},
        )
        return Response(serializer.data)


@schema.revoke_session
class SessionDetailView(TokensView):
    def delete(self, request, session_id):
        if str(session_id) != session_id_of(request):
            # Ending another device's session is destructive; ending one's own is a logout.
            require_recent_login(request)
        if not services.revoke_own_session(request.user, session_id):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)


@schema.notification_preferences
class NotificationPreferencesView(TokensView):
    """The caller's choice of optional security emails (tokens.notifications)."""

    def get(self, request):
        return Response(notifications.preferences(request.user))

    def put(self, request):
        serializer = NotificationPreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not serializer.validated_data["new_device"]:
            # Silencing a security email is for the owner: a stolen access token alone
            # must not turn off the alert about the thief's next sign-in. On needs none.
            require_recent_login(request)
        return Response(
            notifications.set_preferences(
                request.user, new_device=serializer.validated_data["new_device"]
            )
        )


@schema.introspect
class IntrospectView(TokensView):
    """RFC 7662 token introspection, for services that cannot or should not verify
    access tokens themselves (they see a revocation at once). The body is RFC 7662's
    form or JSON: the project's parsers (DRF's defaults take both)."""

    authentication_classes = [IntrospectionClientAuthentication]
    permission_classes = []  # the client is checked in post(), after the rate limit
    throttle_classes = [IntrospectionRate]

    def perform_authentication(self, request) -> None:
        # DRF authenticates before it throttles, which would let guesses at a client
        # secret go uncounted: IntrospectionRate reads the credentials and counts the
        # request by what it finds (the service's budget, or the address's).
        pass

    def handle_exception(self, exc):
        # OAuth clients read RFC 6749 section 5.2's "error"; our code stays beside it.
        response = super().handle_exception(exc)
        error = OAUTH_ERRORS.get(response.status_code)
        if error is not None and isinstance(response.data, dict):
            response.data = {"error": error, **response.data}
        return response

    def post(self, request):
        if not request.user.is_authenticated:  # wrong credentials raise in .user
            raise NotAuthenticated()
        serializer = IntrospectionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = live_access_token(serializer.validated_data["token"])
        response = Response(_introspection(token))
        response["Cache-Control"] = "no-store"  # an answer about a credential, right now
        return response


def _introspection(token) -> dict:
    """RFC 7662's answer: exactly ``{"active": false}`` unless the token is live."""
    if token is None:
        return {"active": False}
    claims = {
        "sub": str(token[api_settings.USER_ID_CLAIM]),
        "sid": token[SESSION_ID_CLAIM],
        "exp": token.get("exp"),
        "iat": token.get("iat"),
        "iss": token.get("iss"),
        "aud": token.get("aud"),
        "jti": token.get(api_settings.JTI_CLAIM) if api_settings.JTI_CLAIM else None,
        "auth_time": token.get(AUTH_TIME_CLAIM),
        # RFC 9449 section 6.2: the key a resource server must see a proof by.
        "cnf": {"jkt": token.dpop_jkt} if token.dpop_jkt is not None else None,
    }
    # token_type is RFC 6749's (section 5.1), as login answers it; not the hint's
    # "access_token".
    return {
        "active": True,
        **{name: value for name, value in claims.items() if value is not None},
        "token_type": "bearer" if token.dpop_jkt is None else "DPoP",
    }


@schema.jwks
class JwksView(TokensView):
    """The public keys that verify access tokens (RFC 7517 JWK Set); empty with HS256."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        response = Response(signing.key_set().jwks())
        max_age = int(tokens_settings.JWKS_MAX_AGE.total_seconds())
        # Public and cacheable: resource servers fetch it often, and a key is published
        # before it signs (docs/access-tokens.md, key rotation), so a cached copy is never too old.
        response["Cache-Control"] = f"public, max-age={max_age}"
        # Public keys, readable by a page on any origin (jose in a browser): no
        # credentials go with "*", so no cookie of ours is ever sent for it.
        response["Access-Control-Allow-Origin"] = "*"
        return response
