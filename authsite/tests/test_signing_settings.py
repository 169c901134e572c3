"""The access-token signing and introspection variables: a bad value stops start-up
naming the variable, or the key it fills (the app's key check, tokens.E004); a fresh
``manage.py check`` process per case, as in test_settings."""

import pytest

from authsite.tests.test_settings import manage
from tokens import signing
from tokens.tests.test_signing import ed448_key

ES_KEY = signing.generate_private_key("ES256")
ED_KEY = signing.generate_private_key("EdDSA")
SECRET = "x" * 32


def refused(result, variable: str) -> bool:
    return result.returncode != 0 and variable in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def key_files(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def test_es256_with_a_key_file_and_a_verifying_key_starts(key_files):
    result = manage(
        "check",
        ACCESS_TOKEN_ALGORITHM="ES256",
        ACCESS_TOKEN_SIGNING_KEY_FILE=key_files("current.pem", ES_KEY),
        ACCESS_TOKEN_VERIFYING_KEY_FILES=key_files("previous.pem", ED_KEY),
        INTROSPECTION_CLIENTS=f"billing:{SECRET},reports:{SECRET}y",
    )
    assert result.returncode == 0, result.stderr


def test_a_key_in_the_variable_itself_works_too():
    result = manage("check", ACCESS_TOKEN_ALGORITHM="eddsa", ACCESS_TOKEN_SIGNING_KEY=ED_KEY)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"ACCESS_TOKEN_ALGORITHM": "RS256"}, "ACCESS_TOKEN_ALGORITHM"),
        ({"ACCESS_TOKEN_ALGORITHM": "ES256"}, "ACCESS_TOKEN_SIGNING_KEY"),
        (
            {"ACCESS_TOKEN_ALGORITHM": "ES256", "ACCESS_TOKEN_SIGNING_KEY": ED_KEY},
            "ACCESS_TOKEN_SIGNING_KEY does not fit ACCESS_TOKEN_ALGORITHM=ES256",
        ),
        (
            {"ACCESS_TOKEN_ALGORITHM": "EdDSA", "ACCESS_TOKEN_SIGNING_KEY": ed448_key()},
            "ACCESS_TOKEN_SIGNING_KEY does not fit ACCESS_TOKEN_ALGORITHM=EdDSA, which needs "
            "an Ed25519 private key",
        ),
        ({"ACCESS_TOKEN_SIGNING_KEY": ES_KEY}, "ACCESS_TOKEN_ALGORITHM is HS256"),
        (
            {"ACCESS_TOKEN_ALGORITHM": "ES256", "ACCESS_TOKEN_SIGNING_KEY_FILE": "/nonexistent"},
            "ACCESS_TOKEN_SIGNING_KEY_FILE: cannot read '/nonexistent'",
        ),
        (
            {"ACCESS_TOKEN_VERIFYING_KEY_FILES": "/nonexistent.pem"},
            "ACCESS_TOKEN_VERIFYING_KEY_FILES: cannot read",
        ),
        ({"INTROSPECTION_CLIENTS": "billing"}, "INTROSPECTION_CLIENTS"),
        ({"INTROSPECTION_CLIENTS": "billing:short"}, "INTROSPECTION_CLIENTS"),
        ({"INTROSPECTION_CLIENTS": f"a:{SECRET},a:{SECRET}"}, "INTROSPECTION_CLIENTS"),
        ({"RATE_LIMIT_INTROSPECTION": "lots"}, "RATE_LIMIT_INTROSPECTION"),
        ({"JWKS_MAX_AGE": "-1"}, "JWKS_MAX_AGE"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variables, named):
    assert refused(manage("check", **variables), named)


def test_a_wrong_key_file_is_refused_by_the_key_check(key_files):
    # The file's text becomes TOKENS["ACCESS_TOKEN_SIGNING_KEY"] (or a verifying key);
    # the app's system check (tokens.E004) names that key.
    result = manage(
        "check",
        ACCESS_TOKEN_ALGORITHM="EdDSA",
        ACCESS_TOKEN_SIGNING_KEY_FILE=key_files("es.pem", ES_KEY),
    )
    assert refused(result, "ACCESS_TOKEN_SIGNING_KEY does not fit")
    assert "tokens.E004" in result.stderr
    result = manage(
        "check",
        ACCESS_TOKEN_VERIFYING_KEY_FILES=key_files("junk.pem", "not a key"),
    )
    assert refused(result, "ACCESS_TOKEN_VERIFYING_KEYS[0] must be a PEM key")


def test_both_the_key_and_its_file_is_refused(key_files):
    result = manage(
        "check",
        ACCESS_TOKEN_ALGORITHM="ES256",
        ACCESS_TOKEN_SIGNING_KEY=ES_KEY,
        ACCESS_TOKEN_SIGNING_KEY_FILE=key_files("k.pem", ES_KEY),
    )
    assert refused(result, "ACCESS_TOKEN_SIGNING_KEY or ACCESS_TOKEN_SIGNING_KEY_FILE")


def test_a_secret_is_never_echoed():
    result = manage("check", INTROSPECTION_CLIENTS="billing:tooshort-secret-value")
    assert refused(result, "INTROSPECTION_CLIENTS")
    assert "tooshort-secret-value" not in result.stderr


def test_generate_signing_key_runs_without_a_key_configured():
    """How one gets the first key: it must not need the key it makes."""
    result = manage("generate_signing_key", "--algorithm", "EdDSA")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-----BEGIN PRIVATE KEY-----")
    assert result.stderr.startswith("kid: ")


def test_issuer_and_audience_come_from_the_environment():
    result = manage(
        "shell",
        "-c",
        "from rest_framework_simplejwt.settings import api_settings as s; "
        "print(s.ISSUER, s.AUDIENCE)",
        ACCESS_TOKEN_ISSUER="https://auth.example.com",
        ACCESS_TOKEN_AUDIENCE="billing",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["https://auth.example.com", "billing"]
    unset = manage(
        "shell", "-c", "from django.conf import settings as s; print(s.SIMPLE_JWT['ISSUER'])"
    )
    assert unset.stdout.splitlines()[-1] == "None"
