"""A URL no view matches under /api/ is JSON 404 (authsite.middleware), not an HTML page."""

import pytest

pytestmark = pytest.mark.django_db


def test_delete_with_a_malformed_id_is_json_404(api, user, login, bearer):
    response = api.delete("/api/auth/sessions/not-a-uuid", **bearer(login()))
    assert response.status_code == 404
    assert response.json() == {"detail": "NOT_FOUND"}
