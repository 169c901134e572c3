"""Register is checked for a cross-site origin too: a foreign page must not create
accounts in a victim's browser (tokens.permissions.RequestOrigin, applied to accounts'
view)."""

import pytest

from accounts.models import User
from tokens.tests.test_origin import FOREIGN, FRONTEND, TRUSTED, refused


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [FRONTEND]


@pytest.mark.django_db
@pytest.mark.parametrize("headers", FOREIGN)
def test_register_from_a_foreign_page_is_refused(api, cors, headers):
    body = {"email": "new@example.com", "password": "a-long-enough-passphrase"}
    assert refused(api.post("/api/auth/register", body, format="json", **headers))
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("headers", TRUSTED)
def test_register_from_our_own_or_a_trusted_origin_or_no_browser_passes(api, cors, headers):
    body = {"email": "new@example.com", "password": "a-long-enough-passphrase"}
    assert api.post("/api/auth/register", body, format="json", **headers).status_code == 201
