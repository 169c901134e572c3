"""Sessions bound to a DPoP key (RFC 9449): what a bound session asks of each use.

A login with a verified proof stores its key's thumbprint on the session
(``RefreshToken.dpop_jkt``); its access tokens carry it as ``cnf.jkt``. Then:

- a refresh needs a proof by that key. None: refused, and the session lives on (its
  owner's next proof works). Another key's: the refresh token was copied out of the
  client, so the session is revoked and the user told, as for a replay;
- an access token needs ``Authorization: DPoP`` and a proof by that key, whose ``ath``
  is the token's hash; a bound token sent as ``Bearer`` is refused.

The session's key comes with the row the request already reads (the refresh's UPDATE,
the authenticated request's one query): checking it costs no query.
"""

from django.utils.crypto import constant_time_compare

from tokens.errors import AccessTokenInvalid, DpopKeyMismatch, DpopProofRequired
from tokens.models import RefreshToken
from tokens.settings import tokens_settings


def _same_key(expected: str, presented: str) -> bool:
    return constant_time_compare(expected, presented)


def holds(session: RefreshToken, dpop_jkt: str | None) -> bool:
    """Whether a refresh of ``session`` with a proof by ``dpop_jkt`` (None: no proof)
    may go on. Raises DpopProofRequired without a proof (or for an unbound session
    when DPOP_REQUIRED is on); False for another key's proof: the refresh token was
    copied, and the caller ends the session as stolen (reason ``dpop_key``)."""
    if not session.dpop_jkt:
        if tokens_settings.DPOP_REQUIRED:
            raise DpopProofRequired()
        return True
    if dpop_jkt is None:
        raise DpopProofRequired()
    return _same_key(session.dpop_jkt, dpop_jkt)


def check_access(
    token_jkt: str | None, session_jkt: str | None, proof_jkt: str | None, *, dpop_scheme: bool
) -> None:
    """Refuse an access token used without its key.

    ``token_jkt``: the token's ``cnf.jkt``; ``session_jkt``: its session's key, read
    with the session; ``proof_jkt``: the key of the request's verified proof (None
    without one); ``dpop_scheme``: whether it came as ``Authorization: DPoP``. A
    token whose ``cnf`` is not its session's key (or that is unbound while its session
    is bound) is refused whatever the request sends.
    """
    if token_jkt != session_jkt:
        raise AccessTokenInvalid()
    if token_jkt is None:
        if dpop_scheme:
            raise AccessTokenInvalid()  # the DPoP scheme is for bound tokens only
        if tokens_settings.DPOP_REQUIRED:
            raise DpopProofRequired()
        return
    if not dpop_scheme or proof_jkt is None:
        raise DpopProofRequired()
    if not _same_key(token_jkt, proof_jkt):
        raise DpopKeyMismatch()
