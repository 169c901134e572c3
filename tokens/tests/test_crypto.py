import uuid

import pytest

from tokens import crypto

SID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def test_round_trip():
    token = crypto.encode(SID, 7)
    assert crypto.decode(token) == crypto.TokenClaims(SID, 7)


def test_encoding_is_deterministic_and_url_safe():
    token = crypto.encode(SID, 3)
    assert token == crypto.encode(SID, 3)
    assert token != crypto.encode(SID, 4)
    assert len(token) == 76
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_every_single_character_change_is_rejected():
    token = crypto.encode(SID, 1)
    for i in range(len(token)):
        replacement = "A" if token[i] != "A" else "B"
        tampered = token[:i] + replacement + token[i + 1 :]
        assert crypto.decode(tampered) is None, i


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "",
        b"bytes",
        12,
        "short",
        "é" * 76,
        "=" * 76,
        "A" * 76,
        "A" * 75,
        "A" * 77,
        "A" * 10_000,
        "12345678-1234-5678-1234-567812345678",
    ],
)
def test_garbage_is_rejected_without_raising(garbage):
    assert crypto.decode(garbage) is None


def test_truncated_and_extended_tokens_are_rejected():
    token = crypto.encode(SID, 1)
    assert crypto.decode(token[:-1]) is None
    assert crypto.decode(token + "A") is None
    assert crypto.decode(token[:-4]) is None


def test_another_key_cannot_verify(settings):
    token = crypto.encode(SID, 1)
    settings.SECRET_KEY = "a-completely-different-secret-key-for-this-test"
    assert crypto.decode(token) is None


def test_old_key_still_verifies_through_fallbacks(settings):
    old_key = settings.SECRET_KEY
    token = crypto.encode(SID, 1)
    settings.SECRET_KEY = "the-new-secret-key-after-a-rotation-of-keys"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert crypto.decode(token) == crypto.TokenClaims(SID, 1)
    # New tokens use the new key, so they do not depend on the fallback.
    settings.SECRET_KEY_FALLBACKS = []
    assert crypto.decode(crypto.encode(SID, 2)) == crypto.TokenClaims(SID, 2)


def test_token_is_not_a_bare_uuid_or_generation():
    token = crypto.encode(SID, 1)
    assert SID.hex not in token
    assert str(SID) not in token
