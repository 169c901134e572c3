import pytest


@pytest.mark.django_db
def test_login_refresh_me_logout(api, user, login, bearer):
    r = login()
    assert r.json()["token_type"] == "bearer"
    me = api.get("/api/users/me", **bearer(r))
    assert me.status_code == 200, me.content
    assert me.json()["email"] == "alice@example.com"
    r2 = api.post("/api/auth/refresh")
    assert r2.status_code == 200, r2.content
    out = api.post("/api/auth/logout")
    assert out.status_code == 200, out.content
    assert api.get("/api/users/me", **bearer(r2)).status_code == 401
