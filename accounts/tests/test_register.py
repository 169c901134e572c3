import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db

STRONG = "a sturdy passphrase 42"


def test_register_creates_an_active_user(api):
    response = api.post(
        "/api/auth/register", {"email": "Carol@Example.com", "password": STRONG}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "is_active", "is_superuser", "date_joined"}
    assert body["email"] == "carol@example.com"
    assert body["is_active"] is True and body["is_superuser"] is False
    user = User.objects.get()
    assert str(user.id) == body["id"]
    assert user.check_password(STRONG)
    assert STRONG not in user.password


def test_a_taken_email_is_refused_case_insensitively(api, make_user):
    make_user(email="carol@example.com")
    response = api.post(
        "/api/auth/register", {"email": "CAROL@example.COM", "password": STRONG}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "REGISTER_USER_ALREADY_EXISTS"}
    assert User.objects.count() == 1


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", "@b.com", "x" * 300 + "@e.com"])
def test_invalid_email_is_a_field_error(api, email):
    response = api.post("/api/auth/register", {"email": email, "password": STRONG}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()
    assert not User.objects.exists()


@pytest.mark.parametrize("password", ["short", "12345678901", "password123", "carol@example.com"])
def test_weak_passwords_are_refused_by_djangos_validators(api, password):
    response = api.post(
        "/api/auth/register", {"email": "carol@example.com", "password": password}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["password"]
    assert not User.objects.exists()


def test_registered_user_can_log_in(api):
    api.post(
        "/api/auth/register", {"email": "carol@example.com", "password": STRONG}, format="json"
    )
    response = api.post(
        "/api/auth/login", {"email": "carol@example.com", "password": STRONG}, format="json"
    )
    assert response.status_code == 200


def test_email_uniqueness_holds_below_the_orm(make_user):
    from django.db import IntegrityError, connection, transaction

    make_user(email="dave@example.com")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (id, email, password, is_active, is_staff, "
            "is_superuser, date_joined) VALUES (%s, %s, '', %s, %s, %s, %s)",
            [
                "0" * 32
                if connection.vendor == "sqlite"
                else "00000000-0000-0000-0000-000000000000",
                "DAVE@example.com",
                True,
                False,
                False,
                "2026-01-01 00:00:00+00:00",
            ],
        )
