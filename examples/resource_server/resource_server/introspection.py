"""Bearer authentication by asking authsite (RFC 7662 introspection) on every request,
for tokens that pass the local checks first (signature by the JWKS, expiry, iss, aud).

Checking locally first is what keeps strangers from spending this service's
introspection budget (authsite limits it per service): a made-up or forged token is
refused here and never forwarded. Only tokens authsite really signed are asked about,
and the answer adds what a signature cannot say: whether the session still lives.
"""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import APIException, AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError

from resource_server import dpop
from resource_server.jwks import AccessToken


@dataclass(frozen=True)
class IntrospectedUser:
    """The caller as authsite describes them: no row here."""

    id: str
    session_id: str
    is_authenticated = True


class AuthServerUnavailable(APIException):
    # Fail closed: no answer from authsite is not a "yes".
    status_code = 503
    default_detail = "The token could not be checked; retry later."


class IntrospectionAuthentication(BaseAuthentication):
    def authenticate(self, request):
        scheme, _, token = get_authorization_header(request).decode("latin-1").partition(" ")
        if scheme.lower() not in ("bearer", "dpop") or not token:
            return None
        token = token.strip()
        try:
            claims = AccessToken(token)  # the signature (JWKS), expiry, iss and aud, here
        except TokenError:
            raise AuthenticationFailed("The token is not valid.") from None
        # A bound token's proof, here too, before spending an introspection on it.
        jkt = dpop.bound_key(claims)
        if (jkt is not None) != (scheme.lower() == "dpop"):
            raise dpop.DPoPRefused("A DPoP-bound token needs the DPoP scheme, and only it.")
        if jkt is not None:
            dpop.check_proof(request, token, jkt)
        answer = _introspect(token)
        # RFC 9449 section 6.2: the answer names the key too; a service that does not
        # verify tokens itself checks the proof against the answer's cnf.jkt instead.
        if not answer.get("active") or dpop.bound_key(answer) != jkt:
            raise AuthenticationFailed("The token is not active.")
        return IntrospectedUser(id=answer["sub"], session_id=answer["sid"]), answer

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api", DPoP algs="ES256 EdDSA Ed25519"'


def _introspect(token: str) -> dict:
    # Each part form-encoded before Basic encoding (RFC 6749 section 2.3.1).
    client_id = urllib.parse.quote_plus(settings.INTROSPECTION_CLIENT_ID)
    secret = urllib.parse.quote_plus(settings.INTROSPECTION_CLIENT_SECRET)
    credentials = f"{client_id}:{secret}"
    # The URL is a setting, checked to be http(s) (settings.py).
    request = urllib.request.Request(  # noqa: S310
        settings.INTROSPECTION_URL,
        data=urllib.parse.urlencode({"token": token}).encode(),
        headers={
            "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return json.load(response)
    except (urllib.error.URLError, TimeoutError, ValueError):
        raise AuthServerUnavailable() from None
