"""An RFC 9449 client nobody here wrote (panva's dpop, npm) against a live server: it
logs in, refreshes and calls a protected endpoint with its proofs, and the tokens it
holds are worth nothing without its key."""

import jwt
import pytest

from authsite import testing
from authsite.tests.interop.conftest import EMAIL, PASSWORD, register_and_login

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(live_database, live_workdir):
    env = testing.base_env(DATABASE_URL=live_database.url(), RATE_LIMIT_LOGIN="1000/m")
    server = testing.start_server(env, live_workdir)
    register_and_login(server.url)  # the account
    yield server
    server.stop()


# ES256: what the bundled page's WebCrypto key is; Ed25519 by RFC 9864's name, which
# this library sends as the alg.
@pytest.mark.parametrize("alg", ["ES256", "Ed25519"])
def test_an_outside_dpop_client_logs_in_refreshes_and_calls(server, node, alg):
    answer = node("dpopSession", url=server.url, email=EMAIL, password=PASSWORD, alg=alg)
    assert answer["ok"], answer
    result = answer["result"]
    assert result["extractable"] is False  # the library's default: the key never leaves
    for step in ("login", "refresh"):
        assert result[step]["status"] == 200, result[step]
        assert result[step]["body"]["token_type"] == "DPoP"
        claims = jwt.decode(
            result[step]["body"]["access_token"], options={"verify_signature": False}
        )
        assert claims["cnf"] == {"jkt": result["thumbprint"]}  # the library's own thumbprint
    assert result["me"]["status"] == 200, result["me"]
    assert result["me"]["body"]["email"] == EMAIL
    # the same token without the key, and with another key
    assert result["meAsBearer"]["status"] == 401
    assert result["meAsBearer"]["body"] == {"detail": "DPOP_PROOF_REQUIRED"}
    assert result["meAsBearer"]["challenge"].startswith("DPoP ")
    assert result["meWithAnotherKey"]["body"] == {"detail": "DPOP_KEY_MISMATCH"}
    assert result["refreshWithoutProof"]["body"] == {"detail": "DPOP_PROOF_REQUIRED"}
